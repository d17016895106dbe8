/// One challenge from a `WWW-Authenticate` header (RFC 7235): a scheme such as `Basic` or
/// `Bearer` and its parameters, such as the token server's `realm`, `service` and `scope`.
public struct AuthChallenge: Equatable, Sendable {
    /// The scheme, lowercased.
    public let scheme: String
    /// Parameter names lowercased; values unquoted.
    public let parameters: [String: String]

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme.lowercased()
        self.parameters = parameters
    }

    /// Parses every challenge in a header value. Quoted values may contain commas and
    /// backslash escapes, as in `Bearer realm="https://a/token",scope="repository:x:pull,push"`.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var challenges = [AuthChallenge]()
        var scanner = Scanner(Array(header.unicodeScalars))

        while true {
            scanner.skip(while: { $0 == " " || $0 == "," || $0 == "\t" })
            let scheme = scanner.token()
            guard !scheme.isEmpty else { break }
            var parameters = [String: String]()

            // Parameters follow until the next bare token, which starts the next challenge.
            while true {
                scanner.skip(while: { $0 == " " || $0 == "," || $0 == "\t" })
                let mark = scanner.position
                let name = scanner.token()
                scanner.skip(while: { $0 == " " })
                guard !name.isEmpty, scanner.peek() == "=" else {
                    scanner.position = mark
                    break
                }
                scanner.advance()
                scanner.skip(while: { $0 == " " })
                let value = scanner.peek() == "\"" ? scanner.quoted() : scanner.token()
                parameters[name.lowercased()] = value
            }
            challenges.append(AuthChallenge(scheme: scheme, parameters: parameters))
        }
        return challenges
    }

    private struct Scanner {
        let scalars: [Unicode.Scalar]
        var position = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        func peek() -> Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

        mutating func advance() { position += 1 }

        mutating func skip(while predicate: (Unicode.Scalar) -> Bool) {
            while let scalar = peek(), predicate(scalar) { position += 1 }
        }

        /// An RFC 7230 token; `/`, `:` and `=`-free runs are enough for scheme and names.
        mutating func token() -> String {
            var text = String.UnicodeScalarView()
            while let scalar = peek(), scalar != " ", scalar != ",", scalar != "=", scalar != "\t", scalar != "\"" {
                text.append(scalar)
                position += 1
            }
            return String(text)
        }

        mutating func quoted() -> String {
            advance()
            var text = String.UnicodeScalarView()
            while let scalar = peek() {
                position += 1
                if scalar == "\"" { break }
                if scalar == "\\", let escaped = peek() {
                    position += 1
                    text.append(escaped)
                    continue
                }
                text.append(scalar)
            }
            return String(text)
        }
    }
}
