import BetMaker
import BetMakerRuntime
import Foundation

/// A small JSON Schema (2020-12) validator for the OpenAPI contract tests: it knows the keywords the
/// document uses (`type` incl. arrays of types, `properties`, `required`, `additionalProperties`,
/// `minProperties`, `items`, `minItems`, `enum`, `const`, `pattern`, `minLength`/`maxLength`,
/// `minimum`/`maximum`/`exclusiveMinimum`, `multipleOf` (exactly, in decimal), `oneOf`/`anyOf`, `$ref`
/// to `#/...`, and `contentSchema` for a string whose `contentMediaType` is JSON, checked as OpenAPI
/// tools check an event stream's data) and ignores
/// annotations (`format`, `description`, `examples`, `default`). An unknown assertion keyword is
/// reported as an error rather than ignored, so the document cannot silently outgrow the validator.
struct JSONSchemaValidator {
    /// The document `$ref`s point into.
    let root: JSONValue

    static let annotations: Set<String> = [
        "description", "examples", "example", "format", "default", "title", "summary", "deprecated", "readOnly", "writeOnly",
    ]
    static let assertions: Set<String> = [
        "$ref", "type", "properties", "required", "additionalProperties", "minProperties", "items", "minItems", "enum", "const", "pattern",
        "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "multipleOf", "oneOf", "anyOf", "contentMediaType",
        "contentSchema",
    ]

    /// Every way `instance` breaks `schema`, as "path: reason"; empty when it validates.
    func errors(_ instance: JSONValue, against schema: JSONValue, at path: String = "$") -> [String] {
        guard case .object(let keywords) = schema else {
            if case .bool(let accepts) = schema { return accepts ? [] : ["\(path): the schema `false` accepts nothing"] }
            return ["\(path): the schema is not an object"]
        }
        var errors: [String] = []
        for member in keywords where !Self.annotations.contains(member.key) && !Self.assertions.contains(member.key) {
            errors.append("\(path): the validator does not know the keyword \(member.key)")
        }
        let schema = Dictionary(keywords.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })

        if case .string(let reference) = schema["$ref"] {
            if let target = resolve(reference) {
                errors += self.errors(instance, against: target, at: path)
            } else {
                errors.append("\(path): cannot resolve \(reference)")
            }
        }
        if let type = schema["type"] {
            let types: [String]
            switch type {
            case .string(let name): types = [name]
            case .array(let names): types = names.compactMap { if case .string(let name) = $0 { name } else { nil } }
            default: types = []
            }
            if !types.contains(where: { Self.has(instance, type: $0) }) {
                errors.append("\(path): expected \(types.joined(separator: " or ")), got \(instance.typeName)")
                return errors
            }
        }
        if let options = schema["enum"], case .array(let values) = options, !values.contains(where: { Self.equal($0, instance) }) {
            errors.append("\(path): \(Self.text(instance)) is not one of \(Self.text(options))")
        }
        if let constant = schema["const"], !Self.equal(constant, instance) {
            errors.append("\(path): \(Self.text(instance)) is not \(Self.text(constant))")
        }
        if case .string(let string) = instance {
            let length = string.unicodeScalars.count
            if let minimum = Self.number(schema["minLength"]), Double(length) < minimum {
                errors.append("\(path): shorter than \(Int(minimum)) characters")
            }
            if let maximum = Self.number(schema["maxLength"]), Double(length) > maximum {
                errors.append("\(path): longer than \(Int(maximum)) characters")
            }
            if let contentSchema = schema["contentSchema"] {
                if schema["contentMediaType"] != .string("application/json") {
                    errors.append("\(path): contentSchema is only checked for contentMediaType application/json")
                } else if let content = try? JSONParser.parse(Array(string.utf8), maximumDepth: 64) {
                    errors += self.errors(content, against: contentSchema, at: "\(path)(JSON)")
                } else {
                    errors.append("\(path): \(Self.text(instance)) is not JSON")
                }
            }
            if case .string(let pattern) = schema["pattern"] {
                if let regex = try? NSRegularExpression(pattern: pattern) {
                    let range = NSRange(string.startIndex..., in: string)
                    if regex.firstMatch(in: string, range: range) == nil {
                        errors.append("\(path): \(Self.text(instance)) does not match \(pattern)")
                    }
                } else {
                    errors.append("\(path): the pattern \(pattern) is not a regular expression")
                }
            }
        }
        if let value = Self.number(instance) {
            if let minimum = Self.number(schema["minimum"]), value < minimum { errors.append("\(path): \(value) is below \(minimum)") }
            if let maximum = Self.number(schema["maximum"]), value > maximum { errors.append("\(path): \(value) is above \(maximum)") }
            if let bound = Self.number(schema["exclusiveMinimum"]), value <= bound {
                errors.append("\(path): \(value) is not above \(bound)")
            }
            // In decimal, from the numbers' text: 0.07 is a multiple of 0.01, whatever binary floats say.
            if case .number(let stepText) = schema["multipleOf"], case .number(let valueText) = instance {
                if let step = Decimal(string: stepText), let exact = Decimal(string: valueText), step > 0 {
                    var quotient = exact / step
                    var whole = Decimal()
                    NSDecimalRound(&whole, &quotient, 0, .plain)
                    if whole != quotient { errors.append("\(path): \(valueText) is not a multiple of \(stepText)") }
                } else {
                    errors.append("\(path): multipleOf \(stepText) cannot be checked")
                }
            }
        }
        if case .object(let members) = instance {
            if let minimum = Self.number(schema["minProperties"]), Double(members.count) < minimum {
                errors.append("\(path): fewer than \(Int(minimum)) members")
            }
            var properties: [String: JSONValue] = [:]
            if case .object(let declared) = schema["properties"] {
                for property in declared { properties[property.key] = property.value }
            }
            if case .array(let required) = schema["required"] {
                for case .string(let name) in required where !members.contains(where: { $0.key == name }) {
                    errors.append("\(path): \(name) is required")
                }
            }
            for member in members {
                if let property = properties[member.key] {
                    errors += self.errors(member.value, against: property, at: "\(path).\(member.key)")
                } else if let additional = schema["additionalProperties"] {
                    if case .bool(false) = additional {
                        errors.append("\(path): \(member.key) is not allowed")
                    } else {
                        errors += self.errors(member.value, against: additional, at: "\(path).\(member.key)")
                    }
                }
            }
        }
        if case .array(let elements) = instance {
            if let minimum = Self.number(schema["minItems"]), Double(elements.count) < minimum {
                errors.append("\(path): fewer than \(Int(minimum)) items")
            }
            if let items = schema["items"] {
                for (index, element) in elements.enumerated() {
                    errors += self.errors(element, against: items, at: "\(path)[\(index)]")
                }
            }
        }
        if case .array(let branches) = schema["oneOf"] {
            let matching = branches.filter { self.errors(instance, against: $0, at: path).isEmpty }.count
            if matching != 1 { errors.append("\(path): \(Self.text(instance)) matches \(matching) of oneOf's \(branches.count) schemas") }
        }
        if case .array(let branches) = schema["anyOf"], !branches.contains(where: { self.errors(instance, against: $0, at: path).isEmpty })
        {
            errors.append("\(path): \(Self.text(instance)) matches none of anyOf's schemas")
        }
        return errors
    }

    /// The value a local reference (`#/components/schemas/Bet`) points at.
    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var value = root
        for token in reference.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let next = value[key] else { return nil }
            value = next
        }
        return value
    }

    private static func has(_ instance: JSONValue, type: String) -> Bool {
        switch (type, instance) {
        case ("object", .object), ("array", .array), ("string", .string), ("number", .number), ("boolean", .bool), ("null", .null):
            true
        case ("integer", .number):
            number(instance).map { $0 == $0.rounded() } ?? false
        default:
            false
        }
    }

    private static func number(_ value: JSONValue?) -> Double? {
        if case .number(let text) = value { Double(text) } else { nil }
    }

    /// JSON equality: numbers by value, objects regardless of member order.
    static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.number(let left), .number(let right)):
            return Double(left) == Double(right)
        case (.array(let left), .array(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { equal($0, $1) }
        case (.object(let left), .object(let right)):
            return left.count == right.count
                && left.allSatisfy { member in right.contains { $0.key == member.key && equal($0.value, member.value) } }
        default:
            return lhs == rhs
        }
    }

    static func text(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        value.write(to: &writer)
        return writer.text
    }
}

extension JSONValue {
    /// A member of an object.
    subscript(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The members of an object, in order; empty for anything else.
    var members: [JSONMember] {
        if case .object(let members) = self { members } else { [] }
    }

    var string: String? {
        if case .string(let string) = self { string } else { nil }
    }

    func write(to writer: inout JSONWriter) {
        switch self {
        case .object(let members):
            writer.beginObject()
            for member in members {
                writer.key(member.key)
                member.value.write(to: &writer)
            }
            writer.endObject()
        case .array(let elements):
            writer.beginArray()
            for element in elements { element.write(to: &writer) }
            writer.endArray()
        case .string(let string): writer.string(string)
        case .number(let text): writer.raw(text.utf8)
        case .bool(let bool): writer.bool(bool)
        case .null: writer.null()
        }
    }
}
