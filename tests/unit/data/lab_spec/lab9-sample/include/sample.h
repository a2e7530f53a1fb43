/* The sample lab API; only its existence matters. */
