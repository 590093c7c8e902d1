import BetMaker
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// One JSON object per line: `ts`, `level`, `label`, `message`, then the metadata as strings.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    private let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let metadata = event.metadata { merged.merge(metadata) { $1 } }
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        json.field("ts", Timestamp.rfc3339(currentMilliseconds()))
        json.field("level", event.level.rawValue)
        json.field("label", label)
        json.field("message", event.message.description)
        if let error = event.error { json.field("error", "\(error)") }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { json.field(key, value.description) }
        json.endObject()
        var line = json.bytes
        line.append(UInt8(ascii: "\n"))
        // One unbuffered write per line keeps lines whole when several threads log at once.
        line.withUnsafeBytes { bytes in
            _ = write(STDOUT_FILENO, bytes.baseAddress, bytes.count)
        }
    }
}
