import BetMaker
import BetMakerRuntime
import Foundation
import Hummingbird
import RedisClient
import TestSupport
import Testing

extension OpenAPIContractTests {
    // MARK: Examples

    @Test func everyExampleInTheDocumentFitsItsSchema() throws {
        var checked = 0
        var failures: [String] = []
        Self.walk(Self.document, at: "#") { value, pointer in
            // A schema with `examples` (an array): each example against the schema itself.
            if case .array(let examples) = value["examples"], value["schema"] == nil {
                for (index, example) in examples.enumerated() {
                    checked += 1
                    failures += Self.validator.errors(example, against: value).map { "\(pointer)/examples/\(index): \($0)" }
                }
            }
            // A media type, parameter or header: its `example` and `examples[*].value` against its `schema`.
            if let schema = value["schema"] {
                if let example = value["example"] {
                    checked += 1
                    failures += Self.validator.errors(example, against: schema).map { "\(pointer)/example: \($0)" }
                }
                // An example may be a reference to one in `components/examples`.
                for example in value["examples"]?.members ?? [] {
                    guard let exampleValue = Self.resolved(example.value)?["value"] else {
                        failures.append("\(pointer)/examples/\(example.key) has no value")
                        continue
                    }
                    checked += 1
                    failures += Self.validator.errors(exampleValue, against: schema).map { "\(pointer)/examples/\(example.key): \($0)" }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(checked >= 60, "only \(checked) examples found")
    }

    @Test func everyBodyParameterAndHeaderHasAnExample() throws {
        var missing: [String] = []
        Self.walk(Self.document, at: "#") { value, pointer in
            if value["schema"] != nil, value["example"] == nil, value["examples"]?.members.isEmpty ?? true {
                missing.append(pointer)
            }
        }
        #expect(missing.isEmpty, "without examples: \(missing)")
    }

    @Test func theWebhookExampleIsSignedAsTheDocumentSays() throws {
        // The brief's test vector: the example body, signed with the secret the description names.
        let operation = try #require(Self.document["paths"]?["/payment/webhook"]?["post"])
        let example = try #require(operation["requestBody"]?["content"]?["application/json"]?["examples"]?["deposit"]?["value"])
        func text(_ name: String) -> String? {
            switch example[name] {
            case .string(let text)?, .number(let text)?: text
            default: nil
            }
        }
        let secret = "gfdmhghif38yrf9ew0jkf32"
        let fields = try ["account_id", "amount", "transaction_id", "user_id"].map { try #require(text($0), "\($0)") }
        let signature = try #require(text("signature"))
        #expect(signature == "7b47e41efe564a062029da3367bde8844bea0fb049f894687cee5d57f2858bc8")
        #expect(sha256Hex(fields.joined() + secret) == signature)
        let description = operation["description"]?.string ?? ""
        #expect(description.contains(secret) && description.contains(signature))
    }

    /// Calls `visit` on every object of `value`, with its JSON pointer.
    static func walk(_ value: JSONValue, at pointer: String, _ visit: (JSONValue, String) -> Void) {
        switch value {
        case .object(let members):
            visit(value, pointer)
            for member in members {
                walk(member.value, at: pointer + "/" + member.key.replacingOccurrences(of: "/", with: "~1"), visit)
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() { walk(element, at: "\(pointer)/\(index)", visit) }
        default:
            break
        }
    }

    @Test func theValidatorRefusesWhatItShould() throws {
        let bet = try #require(Self.validator.resolve("#/components/schemas/Bet"))
        let good = try JSONParser.parse(
            Array(
                #"{"id":"42~0QZ7M3R1K8A0","event_id":"42","amount":"10.50","status":"pending","created_at":"2026-11-22T21:30:05.042Z","settled_at":null}"#
                    .utf8))
        #expect(Self.validator.errors(good, against: bet).isEmpty)
        let wrong: [(String, String)] = [
            (
                "missing",
                #"{"id":"42~0QZ7M3R1K8A0","event_id":"42","amount":"10.50","status":"pending","created_at":"2026-11-22T21:30:05.042Z"}"#
            ),
            (
                "extra",
                #"{"id":"42~0QZ7M3R1K8A0","event_id":"42","amount":"10.50","status":"pending","created_at":"2026-11-22T21:30:05.042Z","settled_at":null,"x":1}"#
            ),
            (
                "pattern",
                #"{"id":"0QZ7M3R1K8AU","event_id":"42","amount":"10.50","status":"pending","created_at":"2026-11-22T21:30:05.042Z","settled_at":null}"#
            ),
            (
                "enum",
                #"{"id":"42~0QZ7M3R1K8A0","event_id":"42","amount":"10.50","status":"cancelled","created_at":"2026-11-22T21:30:05.042Z","settled_at":null}"#
            ),
            (
                "type",
                #"{"id":"42~0QZ7M3R1K8A0","event_id":"42","amount":10.5,"status":"pending","created_at":"2026-11-22T21:30:05.042Z","settled_at":null}"#
            ),
            (
                "oneOf",
                #"{"id":"42~0QZ7M3R1K8A0","event_id":"42","amount":"10.50","status":"pending","created_at":"2026-11-22T21:30:05.042Z","settled_at":5}"#
            ),
        ]
        for (name, text) in wrong {
            let instance = try JSONParser.parse(Array(text.utf8))
            #expect(!Self.validator.errors(instance, against: bet).isEmpty, "\(name) was accepted")
        }
        let request = try #require(Self.validator.resolve("#/components/schemas/BetRequest"))
        for text in [
            #"{"event_id":-1,"amount":1}"#, #"{"event_id":1.5,"amount":1}"#, #"{"event_id":"a","amount":0}"#,
            #"{"event_id":"a","amount":"1.001"}"#,
        ] {
            #expect(!Self.validator.errors(try JSONParser.parse(Array(text.utf8)), against: request).isEmpty, "\(text) was accepted")
        }
        let problem = try #require(Self.validator.resolve("#/components/schemas/ValidationProblem"))
        let noErrors = #"{"type":"/problems/validation","title":"t","status":422,"detail":"d","instance":"/bets","errors":[]}"#
        #expect(!Self.validator.errors(try JSONParser.parse(Array(noErrors.utf8)), against: problem).isEmpty)
        let changes = try #require(Self.validator.resolve("#/components/schemas/CatalogueEventChanges"))
        #expect(!Self.validator.errors(try JSONParser.parse(Array("{}".utf8)), against: changes).isEmpty, "minProperties")
        let unknownKeyword = try JSONParser.parse(Array(#"{"type":"string","uniqueItems":true}"#.utf8))
        #expect(!Self.validator.errors(.string("x"), against: unknownKeyword).isEmpty)
    }
}
