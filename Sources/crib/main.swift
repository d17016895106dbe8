import Foundation

// Progress and errors go to stderr unbuffered; stdout is line buffered so that tables and
// JSON reach a pipe in order with the container's own output.
setvbuf(stdout, nil, _IOLBF, 0)
exit(Crib.main(Array(CommandLine.arguments.dropFirst())))
