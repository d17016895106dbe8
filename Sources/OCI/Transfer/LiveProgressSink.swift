/// A log sink that can also draw lines that change in place, as a terminal can.
public protocol LiveProgressSink: LogSink {
    /// Shows `line` as the current state of `id`, or removes it when `line` is nil.
    func progress(id: String, line: String?)
}
