/* A driver the malformed labs name; never compiled. */
