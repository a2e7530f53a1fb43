/* A sample driver; only its existence matters. */
