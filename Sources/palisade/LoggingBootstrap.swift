import Logging
import PalisadeServer

/// Installs the process-wide log handler for `log.level` and `log.format`. Call once, before the first logger.
enum LoggingBootstrap {
    static func bootstrap(_ configuration: ServerConfiguration) {
        // The loader has validated both settings; the fallbacks are never taken.
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let json = configuration.logFormat == "json"
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
