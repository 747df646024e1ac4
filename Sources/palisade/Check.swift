import ArgumentParser
import Logging
import NIOPosix
import PalisadeJSON
import PalisadePolicy
import PalisadeServer

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `palisade check`: loads every module as a reload would and runs the selftests.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load every policy and plugin as a reload would, run their selftests, report errors with file:line."
    )

    @Option(help: ArgumentHelp("Folder of policy scripts.", valueName: "dir"))
    var policies: String = "./policies"

    @Option(help: ArgumentHelp("Folder of plugin scripts.", valueName: "dir"))
    var plugins: String = "./plugins"

    @Option(help: ArgumentHelp("Config file (YAML or JSON), the one serve reads: selftests see its policy section.", valueName: "file"))
    var config: String?

    func run() async throws {
        var logger = Logger(label: "palisade.check")
        logger.logLevel = .critical
        let policySettings: JSONValue
        do {
            policySettings = try PolicySection.load(configFile: config, environment: ProcessInfo.processInfo.environment)
        } catch {
            StandardError.write("palisade: \(error)\n")
            throw ExitCode(2)
        }
        let config: JSONValue = .object([
            "policy": policySettings, "policy_env": PolicySection.environmentOverrides(ProcessInfo.processInfo.environment),
        ])
        let host = PolicyHost(logger: logger, config: config, jwtSecret: "check")
        let engine = LuaPolicyEngine(settings: .init(directories: [policies, plugins]), host: host)
        do {
            let generation = try await engine.reload(on: MultiThreadedEventLoopGroup.singleton.next())
            let modules = (try? PolicyLoader.read(directories: [policies, plugins]).map(\.name)) ?? []
            print("ok: \(modules.count) modules loaded, selftests passed (generation \(generation)): \(modules.joined(separator: ", "))")
        } catch {
            StandardError.write("palisade: check: \(error)\n")
            throw ExitCode.failure
        }
    }
}
