import Foundation
import MRC

/// A question about a passage that the playground offers to load with one click.
public struct PlaygroundExample: Sendable, Equatable {
    /// The SQuAD question id, so that a test can find it in the demo data.
    public var id: String
    public var title: String
    public var question: String
    public var context: String
    /// The first gold answer (shown after the question, for comparison).
    public var answer: String
}

/// Four short examples from the demo's SQuAD v1.1 dev file (`data/demo/dev-v1.1.json`, article
/// Sky_(United_Kingdom), CC BY-SA 4.0): contexts and questions verbatim, the first gold answer beside
/// each. A test checks that they are still in that file.
public enum PlaygroundExamples {
    public static let all: [PlaygroundExample] = [
        PlaygroundExample(
            id: "570963a5200fba1400367f35", title: "Sky UK customers",
            question: "How many customers does Sky UK Limited have as a pay-TV broadcaster as of 2015?",
            context: "Sky UK Limited (formerly British Sky Broadcasting or BSkyB) is a British telecommunications company which serves the United Kingdom. Sky provides television and broadband internet services and fixed line telephone services to consumers and businesses in the United Kingdom. It is the UK's largest pay-TV broadcaster with 11 million customers as of 2015. It was the UK's most popular digital TV service until it was overtaken by Freeview in April 2007. Its corporate headquarters are based in Isleworth.",
            answer: "11 million"),
        PlaygroundExample(
            id: "57092322efce8f15003a7db2", title: "Sky Italia",
            question: "What year did BSkyB acquire Sky Italia?",
            context: "Formed in November 1990 by the equal merger of Sky Television and British Satellite Broadcasting, BSkyB became the UK's largest digital subscription television company. Following BSkyB's 2014 acquisition of Sky Italia and a majority 90.04% interest in Sky Deutschland in November 2014, its holding company British Sky Broadcasting Group plc changed its name to Sky plc. The United Kingdom operations also changed the company name from British Sky Broadcasting Limited to Sky UK Limited, still trading as Sky.",
            answer: "2014"),
        PlaygroundExample(
            id: "57094d489928a8140047150b", title: "VideoGuard",
            question: "Who is VideoGuard owned by?",
            context: "BSkyB utilises the VideoGuard pay-TV scrambling system owned by NDS, a Cisco Systems company. There are tight controls over use of VideoGuard decoders; they are not available as stand-alone DVB CAMs (conditional-access modules). BSkyB has design authority over all digital satellite receivers capable of receiving their service. The receivers, though designed and built by different manufacturers, must conform to the same user interface look-and-feel as all the others. This extends to the Personal video recorder (PVR) offering (branded Sky+).",
            answer: "NDS"),
        PlaygroundExample(
            id: "57096f37200fba1400367fe5", title: "Licence (£, °, –)",
            question: "Who does BSkyB have an operating license from?",
            context: "BSkyB has no veto over the presence of channels on their EPG, with open access being an enforced part of their operating licence from Ofcom. Any channel which can get carriage on a suitable beam of a satellite at 28° East is entitled to access to BSkyB's EPG for a fee, ranging from £15–100,000. Third-party channels which opt for encryption receive discounts ranging from reduced price to free EPG entries, free carriage on a BSkyB leased transponder, or actual payment for being carried. However, even in this case, BSkyB does not carry any control over the channel's content or carriage issues such as picture quality.",
            answer: "Ofcom"),
    ]

    /// The examples as a JSON array of `{"id", "title", "question", "context", "answer"}`, safe to put
    /// inside a `<script type="application/json">` element ("</" written as "<\/").
    public static var json: String {
        let array = JSONText.array(all.map { example in
            .object([("id", .string(example.id)), ("title", .string(example.title)), ("question", .string(example.question)),
                     ("context", .string(example.context)), ("answer", .string(example.answer))])
        })
        return array.rendered.replacingOccurrences(of: "</", with: "<\\/")
    }
}
