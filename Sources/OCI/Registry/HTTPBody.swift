import Foundation

/// The body of a request: nothing, or bytes in memory.
enum HTTPBody {
    case none
    case data(Data)
}
