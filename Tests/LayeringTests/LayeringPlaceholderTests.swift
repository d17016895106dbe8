import Testing

@testable import Layering
