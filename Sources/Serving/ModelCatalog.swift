import Foundation
import Kernels
import MRC

/// What `--model` and `--ensemble` name: a model's name and its member directories.
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    public var directories: [String]

    public init(name: String, directories: [String]) {
        self.name = name
        self.directories = directories
    }

    public var isEnsemble: Bool { directories.count > 1 }

    /// `--model DIR` (named after the directory's last component) or `--model NAME=DIR`.
    public static func model(_ argument: String) throws -> ModelSpec {
        if let equals = argument.firstIndex(of: "=") {
            let name = String(argument[..<equals]), directory = String(argument[argument.index(after: equals)...])
            try checkName(name, in: argument, option: "--model")
            guard !directory.isEmpty else { throw ServingSetupError("--model \(argument): no directory after '='") }
            return ModelSpec(name: name, directories: [directory])
        }
        guard !argument.isEmpty else { throw ServingSetupError("--model: empty directory") }
        let name = URL(fileURLWithPath: argument).standardizedFileURL.lastPathComponent
        return ModelSpec(name: name.isEmpty ? "model" : name, directories: [argument])
    }

    /// `--ensemble NAME=DIR1,DIR2,...` (two members at least).
    public static func ensemble(_ argument: String) throws -> ModelSpec {
        guard let equals = argument.firstIndex(of: "=") else {
            throw ServingSetupError("--ensemble \(argument): expected NAME=DIR1,DIR2,...")
        }
        let name = String(argument[..<equals])
        try checkName(name, in: argument, option: "--ensemble")
        let directories = argument[argument.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !directories.contains(where: \.isEmpty) else {
            throw ServingSetupError("--ensemble \(argument): an empty directory in the list")
        }
        guard directories.count >= 2 else {
            throw ServingSetupError("--ensemble \(argument): an ensemble needs two members or more (use --model for one)")
        }
        return ModelSpec(name: name, directories: directories)
    }

    static func checkName(_ name: String, in argument: String, option: String) throws {
        guard !name.isEmpty else { throw ServingSetupError("\(option) \(argument): empty NAME before '='") }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw ServingSetupError("\(option) \(argument): NAME may hold letters, digits, '-', '_' and '.' only")
        }
    }
}

/// The models a server answers with, by name; the first is the default for requests naming none.
public final class ModelCatalog: Sendable {
    public let models: [ServedModel]
    public var defaultModel: ServedModel { models[0] }

    public init(models: [ServedModel]) throws {
        try Self.checkNames(models.map(\.name))
        self.models = models
    }

    /// Loads every spec (in order: the first is the default); names are checked before any loading.
    public convenience init(specs: [ModelSpec], weightsFile: String? = nil, windowSettings: WindowSettings,
                            decoderSettings: SpanDecoderSettings, precision: Precision = .fp32) throws {
        try Self.checkNames(specs.map(\.name))
        try self.init(models: specs.map { spec in
            try ServedModel(name: spec.name, directories: spec.directories.map { URL(fileURLWithPath: $0) },
                            weightsFile: weightsFile, windowSettings: windowSettings, decoderSettings: decoderSettings,
                            precision: precision)
        })
    }

    /// At least one model, and no two with the same name.
    static func checkNames(_ names: [String]) throws {
        guard !names.isEmpty else { throw ServingSetupError("no model to serve: give --model DIR (or --ensemble NAME=DIR1,DIR2)") }
        if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw ServingSetupError("two models are named \(duplicate): name them with --model NAME=DIR")
        }
    }

    /// The model a request names (the default when it names none); 400 naming `model` otherwise.
    public func model(named name: String?) throws(ServingError) -> ServedModel {
        guard let name else { return defaultModel }
        guard let model = models.first(where: { $0.name == name }) else {
            throw .badRequest("no model named \"\(name.prefix(80))\"; this server has: \(models.map(\.name).joined(separator: ", "))",
                              field: "model")
        }
        return model
    }
}
