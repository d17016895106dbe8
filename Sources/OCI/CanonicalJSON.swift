import Foundation

/// JSON as crib writes every manifest, index and config: keys sorted, no escaped slashes,
/// no insignificant white space. Equal values therefore always give equal bytes and digests.
public enum CanonicalJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Indented, for `crib inspect`; never hashed.
    public static func encodePretty<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return try encoder.encode(value)
    }

    /// Decodes `data`, naming `source` (a path or a digest) and the decoder's reason on failure.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, source: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw OCIError.malformedJSON(path: source, underlying: describe(error))
        } catch {
            throw OCIError.malformedJSON(path: source, underlying: "\(error)")
        }
    }

    /// Turns a DecodingError into one line: what was wrong and at which key path.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "top level" : text
        }
        switch error {
        case .dataCorrupted(let context):
            return "\(context.debugDescription.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))) at \(path(context.codingPath))"
        case .keyNotFound(let key, let context):
            return "missing key \"\(key.stringValue)\" at \(path(context.codingPath))"
        case .typeMismatch(let type, let context):
            return "expected \(type) at \(path(context.codingPath))"
        case .valueNotFound(let type, let context):
            return "missing \(type) value at \(path(context.codingPath))"
        @unknown default:
            return "\(error)"
        }
    }
}

/// RFC 3339 timestamps as image configs and history carry them.
public enum Timestamp {
    /// `date` in UTC with second precision: `2026-12-04T20:37:30Z`.
    public static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Parses RFC 3339 with or without fractional seconds (Go writes nanoseconds).
    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        // ISO8601DateFormatter accepts at most millisecond fractions; drop the rest.
        if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            let fraction = text[text.index(after: dot)..<end].prefix(3)
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter.date(from: String(text[..<dot]) + "." + fraction + String(text[end...]))
        }
        return nil
    }
}
