/// A setting that cannot be used, or a config file that cannot be read.
///
/// `description` is the whole message, written for the operator: it names the setting and
/// where its value came from (an environment variable, the command line or the config file),
/// so `palisade: <description>` is enough to find and fix it.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Code: String, Sendable, Equatable {
        /// A value that does not parse or is out of range.
        case invalidValue
        /// A command-line key that names no setting (a programming error in the caller).
        case unknownSetting
        case configFileNotFound
        /// Exists but cannot be read (a directory, no permission).
        case configFileUnreadable
        /// Not valid YAML/JSON, or its top level is not a mapping.
        case configFileInvalid
        /// Neither `.yaml`, `.yml` nor `.json`.
        case configFileUnsupported
    }

    public var code: Code
    /// The setting's key path (`socketio.ping_interval`), when the error is about one setting.
    public var key: String?
    /// Where the value came from: an environment variable name, `the command line`,
    /// or `config file PATH`; for file errors, the file's path.
    public var source: String?
    public var message: String

    public init(code: Code, key: String? = nil, source: String? = nil, message: String) {
        self.code = code
        self.key = key
        self.source = source
        self.message = message
    }

    public var description: String { message }
}
