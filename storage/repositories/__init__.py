"""One module per aggregate; every function takes the caller's session and never commits."""
