import Checkpoint
import Foundation
import TestSupport
import XCTest
@testable import Text

/// How fast the train set tokenises: every context (once per paragraph) and question of
/// squad/train-v1.1.json, uncased MiniLM vocabulary. Prints the figure for the report.
final class TokenizerSpeedTests: XCTestCase {
    func testTrainSetTokenisationSpeed() throws {
        let url = TestPaths.sharedData("squad/train-v1.1.json")
        guard let squad = try FixtureFiles.jsonObject(url) as? [String: Any],
              let articles = squad["data"] as? [[String: Any]] else {
            return XCTFail("\(url.path): no data[] array")
        }
        var texts: [String] = []
        for article in articles {
            for paragraph in article["paragraphs"] as? [[String: Any]] ?? [] {
                texts.append(paragraph["context"] as? String ?? "")
                for qa in paragraph["qas"] as? [[String: Any]] ?? [] { texts.append(qa["question"] as? String ?? "") }
            }
        }
        let tokenizer = WordPieceTokenizer(vocabulary: try Vocabulary(contentsOf: FixtureFiles.miniLMVocabulary))
        var best = Double.infinity
        var tokens = 0, scalars = 0
        for _ in 0 ..< 3 {
            tokens = 0
            scalars = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for text in texts {
                tokens += tokenizer.encode(text).count
                scalars += text.unicodeScalars.count
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        print(String(format: "tokenizer speed: %d texts, %d scalars, %d tokens of train-v1.1.json in %.3f s: %.0f tokens/s, %.1f MB/s",
                     texts.count, scalars, tokens, best, Double(tokens) / best, Double(scalars) / best / 1e6))
        XCTAssertGreaterThan(texts.count, 8000)
        XCTAssertGreaterThan(tokens, 100_000)
    }
}
