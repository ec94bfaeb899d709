package stress

// ignoreBrokenPipe has nothing to do on Windows, where a write to a closed
// pipe is an error already.
func ignoreBrokenPipe() {}
