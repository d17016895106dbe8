import Foundation

/// The body of a request: nothing, bytes in memory, or a whole file read as it is sent.
enum HTTPBody {
    case none
    case data(Data)
    case file(String)
}
