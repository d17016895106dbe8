/// The state of a blob at a destination before a copy.
public enum BlobPresence: Sendable {
    case missing
    case present
    /// A registry linked it from another repository on the same registry.
    case mounted(from: String)
}
