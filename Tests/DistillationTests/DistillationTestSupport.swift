import Foundation
import Distillation

/// Shared helpers of the distillation tests.
enum DistillationTestSupport {
    /// A fresh empty directory under the system's temporary directory.
    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-distill-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
