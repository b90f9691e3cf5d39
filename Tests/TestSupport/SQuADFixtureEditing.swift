import Foundation

/// SQuAD JSON fixtures edited question by question (to make a v2.0 file, or one without answers).
public enum SQuADFixtureEditing {
    /// The SQuAD JSON at `url` with every question (`qas` entry, in file order) replaced by `transform`'s result.
    public static func mapQuestions(of url: URL, _ transform: ([String: Any]) -> [String: Any]) throws -> [String: Any] {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        json["data"] = (json["data"] as! [[String: Any]]).map { article in
            var article = article
            article["paragraphs"] = (article["paragraphs"] as! [[String: Any]]).map { paragraph in
                var paragraph = paragraph
                paragraph["qas"] = (paragraph["qas"] as! [[String: Any]]).map(transform)
                return paragraph
            }
            return article
        }
        return json
    }
}
