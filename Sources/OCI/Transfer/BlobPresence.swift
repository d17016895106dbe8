/// What a destination already has of a blob.
public enum BlobPresence: Sendable {
    case missing
    case present
    /// A registry linked it from another repository on the same registry.
    case mounted(from: String)
}
