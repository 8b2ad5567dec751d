import Foundation
import ShiftAddServer
import Testing

/// The Kubernetes manifests pass schema validation, and they and the container image configure the
/// server with settings it accepts.
@Suite struct DeploymentManifestTests {
    static let docker = ConfigurationFileTests.repository.appendingPathComponent("Docker")

    static func read(_ path: String) throws -> String {
        try String(contentsOf: docker.appendingPathComponent(path), encoding: .utf8)
    }

    /// Runs Docker/validate-k8s.sh on `directory`; returns its exit status and combined output.
    static func validate(_ directory: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [docker.appendingPathComponent("validate-k8s.sh").path, directory]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// Runs Docker/validate-inference-gateway.py on `directory` with the Python of the project's
    /// virtual environment (where kubernetes-validate, PyYAML and jsonschema are installed).
    static func validateExtension(_ directory: String) throws -> (status: Int32, output: String) {
        let environment = ProcessInfo.processInfo.environment
        let venv = environment["KUBERNETES_VALIDATE"].map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
            ?? ((environment["XDG_CACHE_HOME"] ?? NSHomeDirectory() + "/.cache") + "/shiftadd/venv/bin")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: venv + "/python")
        process.arguments = [docker.appendingPathComponent("validate-inference-gateway.py").path, directory]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// `NAME: "value"` entries of the ConfigMap.
    static func configMapEnvironment() throws -> [String: String] {
        var environment: [String: String] = [:]
        for match in try read("k8s/configmap.yaml").matches(of: #/\n\s+(SHIFTADD_[A-Z_]+): "([^"]*)"/#) {
            environment[String(match.1)] = String(match.2)
        }
        return environment
    }

    static func integer(_ text: String, after key: String) throws -> Int {
        let match = try #require(text.firstMatch(of: Regex(#"\b\#(key): (\d+)"#, as: (Substring, Substring).self)), "\(key)")
        return Int(match.1)!
    }

    @Test func manifestsPassStrictSchemaValidation() throws {
        let result = try Self.validate(Self.docker.appendingPathComponent("k8s").path)
        #expect(result.status != 127, "\(result.output)")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("6 manifests valid"), "\(result.output)")
    }

    /// The endpoint picker's manifests against the Kubernetes schemas; the InferencePool and the
    /// HTTPRoute against their own kinds' schemas; the pool selects the server pods on their port.
    @Test func inferenceGatewayManifestsPassStrictSchemaValidation() throws {
        let core = try Self.validate(Self.docker.appendingPathComponent("k8s/inference-gateway").path)
        #expect(core.status == 0 && core.output.contains("1 manifests valid"), "\(core.output)")
        let extensionDirectory = Self.docker.appendingPathComponent("k8s/inference-gateway/extension").path
        let custom = try Self.validateExtension(extensionDirectory)
        #expect(custom.status == 0 && custom.output.contains("2 inference extension manifests valid"), "\(custom.output)")
        let pool = try Self.read("k8s/inference-gateway/extension/inferencepool.yaml")
        #expect(pool.contains("matchLabels:\n      app.kubernetes.io/name: shiftadd\n"))
        #expect(try Self.integer(pool, after: "number") == Self.integer(Self.read("k8s/deployment.yaml"), after: "containerPort"))

        let directory = NSTemporaryDirectory() + "shiftadd-gie-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broken = pool.replacingOccurrences(of: "targetPorts:", with: "targetPort:")
        try Data(broken.utf8).write(to: URL(fileURLWithPath: directory + "/inferencepool.yaml"))
        let rejected = try Self.validateExtension(directory)
        #expect(rejected.status == 1 && rejected.output.contains("targetPort"), "\(rejected.output)")
    }

    @Test func validatorRejectsAMisspelledField() throws {
        let directory = NSTemporaryDirectory() + "shiftadd-k8s-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broken = try Self.read("k8s/deployment.yaml").replacingOccurrences(of: "failureThreshold: 180", with: "failureThreshhold: 180")
        try Data(broken.utf8).write(to: URL(fileURLWithPath: directory + "/deployment.yaml"))
        let result = try Self.validate(directory)
        #expect(result.status == 1 && result.output.contains("failureThreshhold"), "\(result.output)")
    }

    @Test func configMapSettingsAreAcceptedAndFitTheGracePeriod() throws {
        let environment = try Self.configMapEnvironment()
        #expect(environment.count >= 10)
        let c = try ServerConfiguration.load(arguments: [], environment: environment)
        #expect(c.host == "0.0.0.0" && c.port == 8080 && c.kvCacheBytes != nil && c.threads == 2)
        let deployment = try Self.read("k8s/deployment.yaml")
        let grace = try Self.integer(deployment, after: "terminationGracePeriodSeconds")
        let preStop = try Int(#require(deployment.firstMatch(of: #/command: \["sleep", "(\d+)"\]/#)).1)!
        #expect(Double(grace) >= c.drainTimeoutSeconds + Double(preStop) + 5, "grace \(grace) s")
        #expect(try Self.integer(deployment, after: "containerPort") == c.port)
    }

    @Test func probesUseTheHealthEndpointsAndAllowForConversion() throws {
        let deployment = try Self.read("k8s/deployment.yaml")
        for (probe, path) in [("startupProbe", "/health"), ("readinessProbe", "/ready"), ("livenessProbe", "/live")] {
            let block = try #require(deployment.firstMatch(of: Regex(#"\#(probe):\s*\n\s*httpGet:\s*\n\s*path: \S+"#, as: Substring.self)), "\(probe)")
            #expect(block.output.hasSuffix("path: " + path), "\(probe)")
        }
        let startup = try #require(deployment.firstMatch(of: #/startupProbe:[\s\S]*?readinessProbe:/#)).output
        let patience = try Self.integer(String(startup), after: "periodSeconds") * Self.integer(String(startup), after: "failureThreshold")
        #expect(patience >= 600, "startup probe gives up after \(patience) s")
    }

    @Test func imageEnvironmentIsAccepted() throws {
        let dockerfile = try Self.read("Dockerfile")
        var environment: [String: String] = [:]
        for match in dockerfile.matches(of: #/(SHIFTADD_[A-Z_]+)=([^\s\\]+)/#) {
            environment[String(match.1)] = String(match.2)
        }
        #expect(environment["SHIFTADD_HOST"] == "0.0.0.0" && environment["SHIFTADD_MODEL"]?.hasPrefix("/models/") == true)
        let c = try ServerConfiguration.load(arguments: [], environment: environment)
        #expect(c.bundleCache == "/var/cache/shiftadd" && c.port == 8080)
        #expect(dockerfile.contains("EXPOSE \(c.port)") && dockerfile.contains("VOLUME [\"/models\", \"\(c.bundleCache!)\"]"))
    }
}
