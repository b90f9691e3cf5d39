import Foundation
import MRC
import TestSupport
import Text
import XCTest

/// Shared loading for the MRC tests: fixtures, real data, the MiniLM vocabulary.
enum MRCTestData {
    /// A file that must exist; a missing one fails with how to get it.
    static func requireFile(_ url: URL, _ hint: String, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        guard FileManager.default.fileExists(atPath: url.path) else {
            XCTFail("missing \(url.path): \(hint)", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        return url
    }

    static func fixtureJSON(_ name: String) throws -> Any {
        let url = try requireFile(TestPaths.fixture("mrc/\(name)"), "regenerate with scripts/fixtures/ (committed)")
        return try JSONSerialization.jsonObject(with: DataFile.contents(of: url))
    }

    static func sharedData(_ relativePath: String) throws -> URL {
        try requireFile(TestPaths.sharedData(relativePath), "the real data lives in ../shared/data (or set MRC_SHARED_DATA)")
    }

    static func miniLMTokenizer() throws -> WordPieceTokenizer {
        let vocab = try requireFile(TestPaths.miniLMDirectory.appendingPathComponent("vocab.txt"), "run scripts/setup")
        return try WordPieceTokenizer(vocabFile: vocab, lowercase: true)
    }
}
