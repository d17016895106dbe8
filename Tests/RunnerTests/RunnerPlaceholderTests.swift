import Testing

@testable import Runner
