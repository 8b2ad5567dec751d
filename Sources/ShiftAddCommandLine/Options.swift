// Argument parsing.
