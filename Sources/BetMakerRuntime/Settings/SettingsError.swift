/// Settings that cannot be used, with what is wrong with them; the commands print it and exit with status 2.
public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
