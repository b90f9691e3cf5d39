import CFuzzDriver
import Foundation
import FuzzTargets

// mrc-fuzz: the readers' fuzz targets (docs/FUZZING.md).
//   mrc-fuzz list                          the targets, their -max_len and what they read
//   mrc-fuzz replay TARGET FILE|DIR ...    run inputs once (any build): prints each outcome
//   mrc-fuzz TARGET [libFuzzer options] [CORPUS_DIR ...]
//                                          fuzz (only in the build scripts/fuzz makes: -sanitize=fuzzer,address
//                                          -D MRC_FUZZING); libFuzzer's own options pass through.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("mrc-fuzz: \(message)\n".utf8))
    exit(2)
}

func target(_ name: String) -> FuzzTarget {
    guard let target = FuzzTarget.named(name) else {
        fail("unknown target '\(name)'; targets: \(FuzzTarget.all.map(\.name).joined(separator: ", "))")
    }
    return target
}

func inputs(_ paths: ArraySlice<String>) -> [URL] {
    paths.flatMap { path -> [URL] in
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { fail("\(path): no such file") }
        guard isDirectory.boolValue else { return [URL(fileURLWithPath: path)] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { URL(fileURLWithPath: path).appendingPathComponent($0) }
    }
}

nonisolated(unsafe) var selected: FuzzTarget?

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case nil, "-h", "--help":
    print("usage: mrc-fuzz list | replay TARGET FILE|DIR ... | TARGET [libFuzzer options] [CORPUS_DIR ...]")
case "list":
    for target in FuzzTarget.all {
        print("\(target.name.padding(toLength: 14, withPad: " ", startingAt: 0)) max_len \(String(target.maxLength).padding(toLength: 6, withPad: " ", startingAt: 0)) \(target.summary)")
    }
case "replay":
    guard arguments.count >= 4 else { fail("replay needs a target and at least one file or directory") }
    let chosen = target(arguments[2])
    for url in inputs(arguments.dropFirst(3)) {
        guard let data = try? Data(contentsOf: url) else { fail("\(url.path): cannot read") }
        let outcome = chosen.run(data).map { "refused: \($0)" } ?? "accepted"
        print("\(url.lastPathComponent): \(outcome)")
    }
case let name?:
    selected = target(name)
    #if MRC_FUZZING
    // libFuzzer sees argv without the target's name.
    var argv: [UnsafeMutablePointer<CChar>?] = ([arguments[0]] + arguments.dropFirst(2)).map { strdup($0) } + [nil]
    var argc = CInt(argv.count - 1)
    let status = argv.withUnsafeMutableBufferPointer { buffer -> CInt in
        var base = buffer.baseAddress
        return LLVMFuzzerRunDriver(&argc, &base) { bytes, count in
            selected!.run(Data(bytes: bytes!, count: count))
            return 0
        }
    }
    exit(status)
    #else
    fail("this build cannot fuzz: scripts/fuzz builds mrc-fuzz with -sanitize=fuzzer,address -D MRC_FUZZING; use `replay` here")
    #endif
}
