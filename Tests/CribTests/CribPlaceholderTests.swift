import Testing

@testable import crib
