import ArgumentParser
import Distillation
import Foundation

/// `mrc-distill merge`: joins the shards of a soft-label store.
struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the shards written by `teach --shard i/N` into one soft-label store.",
        discussion: "Every window must be covered exactly once; the result is byte-identical to an unsharded `teach`.")

    @Argument(help: "The shard files, in any order.") var parts: [String]
    @Option(name: .long, help: "The merged store to write.") var out: String

    func run() async throws {
        let provenance = try SoftLabelMerge.merge(parts: parts.map(URL.init(fileURLWithPath:)), into: URL(fileURLWithPath: out))
        report("merged \(parts.count) shards into \(out): \(provenance.windowCount) windows")
    }
}

/// `mrc-distill inspect`: what a soft-label store holds.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a soft-label store's provenance and per-teacher statistics (checks every record's checksum).")

    @Argument(help: "The soft-label store.") var labels: String

    func run() async throws {
        print(try SoftLabelStore(url: URL(fileURLWithPath: labels)).summary())
    }
}
