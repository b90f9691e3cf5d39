import XCTest
import MRC
@testable import Distillation

final class AnswerLocatorTests: XCTestCase {
    func testExactFindsEveryOccurrenceWithoutOverlap() {
        let context = ScalarText("Paris is big. Paris is old. aaaa")
        XCTAssertEqual(AnswerLocator.locate("Paris", in: context), AnswerLocation(kind: .exact, spans: [0..<5, 14..<19]))
        XCTAssertEqual(AnswerLocator.locate("aa", in: context)?.spans, [28..<30, 30..<32])
        XCTAssertNil(AnswerLocator.locate("London", in: context))
        XCTAssertNil(AnswerLocator.locate("", in: context))
        XCTAssertNil(AnswerLocator.locate(" \n\u{A0}", in: context))
    }

    func testWhitespaceRunsNewlinesAndNBSPMatchAnyRun() {
        let context = ScalarText("It lies in New\u{A0}York  City\nand\tbeyond.")
        let location = AnswerLocator.locate("New York City and beyond", in: context)
        XCTAssertEqual(location?.kind, .whitespace)
        XCTAssertEqual(location?.spans, [11..<36])
        XCTAssertEqual(context.slice(location!.spans[0]), "New\u{A0}York  City\nand\tbeyond")
        // Leading/trailing whitespace of the answer is ignored; an exact match wins when there is one.
        XCTAssertEqual(AnswerLocator.locate("  New\u{A0}York \n", in: context), AnswerLocation(kind: .whitespace, spans: [11..<19]))
        XCTAssertEqual(AnswerLocator.locate("New\u{A0}York", in: context)?.kind, .exact)
        // Whitespace inside the answer needs whitespace in the context.
        XCTAssertNil(AnswerLocator.locate("Ne w", in: context))
    }

    func testCaseInsensitiveComesLast() {
        let context = ScalarText("THE Eiffel TOWER and the eiffel tower")
        XCTAssertEqual(AnswerLocator.locate("eiffel tower", in: context), AnswerLocation(kind: .exact, spans: [25..<37]))
        let folded = AnswerLocator.locate("Eiffel  Tower", in: context)
        XCTAssertEqual(folded?.kind, .caseInsensitive)
        XCTAssertEqual(folded?.spans, [4..<16, 25..<37])
        XCTAssertEqual(AnswerLocator.locate("ÉCOLE", in: ScalarText("une école"))?.spans, [4..<9])
    }

    func testUnicodeSpansAreScalarIndices() {
        // "👍🏽" is two scalars, "é" one (precomposed), "東京" two.
        let context = ScalarText("Café 👍🏽 東京 naïve")
        XCTAssertEqual(AnswerLocator.locate("東京", in: context)?.spans, [8..<10])
        XCTAssertEqual(AnswerLocator.locate("naïve", in: context)?.spans, [11..<16])
        XCTAssertEqual(AnswerLocator.locate("👍🏽", in: context)?.spans, [5..<7])
        XCTAssertEqual(context.slice(11..<16), "naïve")
    }
}
