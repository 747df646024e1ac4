/// One configurable setting: its key path, the extra environment names it answers to,
/// and how a found value is parsed into `ServerConfiguration`.
///
/// The catalogue is `Setting.all` (`Setting+Catalogue.swift`); the loader, the command-line
/// help and the tests all read it, so a setting is declared exactly once.
struct Setting: Sendable {
    /// An environment name besides the canonical `PALISADE_` + key path one.
    struct EnvironmentName: Sendable, Equatable {
        enum Conversion: Sendable, Equatable {
            case none
            /// Open WebUI's `ENABLE_WEBSOCKET_SUPPORT`: true → `both`, false → `polling`.
            case webSocketSupportFlag
        }

        var name: String
        /// Open WebUI's spelling: consulted after every `PALISADE_` name.
        var isOpenWebUIAlias: Bool
        var conversion: Conversion = .none

        static func palisade(_ name: String) -> Self {
            .init(name: name, isOpenWebUIAlias: false)
        }

        static func openWebUI(_ name: String, conversion: Conversion = .none) -> Self {
            .init(name: name, isOpenWebUIAlias: true, conversion: conversion)
        }
    }

    /// Dotted key path as written in the config file: `socketio.ping_interval`.
    var key: String
    /// Extra names, highest precedence first; the canonical `PALISADE_…` name comes before all of them.
    var environmentNames: [EnvironmentName]
    var isSecret: Bool
    /// One line for `palisade serve --help`.
    var summary: String
    /// The default as an operator would write it, for the help text; nil when unset by default.
    var defaultValue: @Sendable (ServerConfiguration) -> String?
    var apply: @Sendable (SettingValue, inout ServerConfiguration) throws -> Void

    init(
        _ key: String,
        environment environmentNames: [EnvironmentName] = [],
        secret isSecret: Bool = false,
        _ summary: String,
        default defaultValue: @escaping @Sendable (ServerConfiguration) -> String?,
        apply: @escaping @Sendable (SettingValue, inout ServerConfiguration) throws -> Void
    ) {
        self.key = key
        self.environmentNames = environmentNames
        self.isSecret = isSecret
        self.summary = summary
        self.defaultValue = defaultValue
        self.apply = apply
    }

    var keyComponents: [String] { key.split(separator: ".").map(String.init) }
}
