// JSONValue parser and serializer: key order, number text, escapes, error positions.
import XCTest
@testable import Harmony

final class JSONTests: XCTestCase {
    func testKeepsKeyOrderAndNumberText() throws {
        let v = try JSONParser.parse(#"{"z": 1.0, "a": [1e-07, -0, 10], "m": {"y": true, "b": null}}"#)
        XCTAssertEqual(v.objectValue?.keys, ["z", "a", "m"])
        XCTAssertEqual(v["z"]?.numberValue?.text, "1.0")
        XCTAssertEqual(v.compactJSON(), #"{"z":1.0,"a":[1e-07,-0,10],"m":{"y":true,"b":null}}"#)
        XCTAssertEqual(v.compactJSON(numbers: .harmony), #"{"z":1.0,"a":[1e-7,0,10],"m":{"y":true,"b":null}}"#)
    }

    func testDuplicateKeyKeepsFirstPositionLastValue() throws {
        let v = try JSONParser.parse(#"{"y":1,"b":2,"y":3}"#)
        XCTAssertEqual(v.compactJSON(), #"{"y":3,"b":2}"#)
    }

    func testLargeObjectKeepsOrder() throws {
        let text = "{" + (0..<20_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"k5\":-1}"
        let v = try JSONParser.parse(text)
        XCTAssertEqual(v.objectValue?.count, 20_000)
        XCTAssertEqual(v.objectValue?.members[5], JSONMember("k5", -1))
        XCTAssertEqual(v.objectValue?.members.last?.key, "k19999")
    }

    func testStringEscapes() throws {
        let v = try JSONParser.parse(#"["a\"b\\c\/d\n\t\u00e9\ud83d\ude00\u0001", "é😀"]"#)
        XCTAssertEqual(v.arrayValue?[0].stringValue, "a\"b\\c/d\n\té😀\u{01}")
        // serde_json style: only quote, backslash and control characters are escaped.
        XCTAssertEqual(v.compactJSON(), #"["a\"b\\c/d\n\té😀\u0001","é😀"]"#)
    }

    func testHarmonyNumberFormatting() {
        let cases: [(String, String)] = [
            ("1.0", "1.0"), ("1e-07", "1e-7"), ("1E2", "100.0"), ("1.50", "1.5"), ("-0", "0"), ("-0.0", "-0.0"),
            ("0.0001", "0.0001"), ("0.00001", "0.00001"), ("1e-6", "1e-6"), ("123456789.125", "123456789.125"),
            ("1e16", "1e16"), ("1e15", "1000000000000000.0"), ("12345678901234567890", "12345678901234567890"),
            ("100000000000000000000000", "1e23"), ("2.5e-300", "2.5e-300"), ("3.5e10", "35000000000.0"),
            ("-42", "-42"), ("0.1", "0.1"), ("1.5e300", "1.5e300"), ("123e-20", "1.23e-18"),
            // serde_json's fast float parse lands on a neighbouring double; harmony prints that one.
            ("4.1882723842698686e-07", "4.188272384269869e-7"), ("7.411740621875864e-08", "7.411740621875865e-8"),
            ("-9223372036854775808", "-9223372036854775808"), ("-9223372036854775809", "-9.223372036854776e18"),
            ("18446744073709551616", "1.8446744073709552e19"), ("5e-324", "5e-324"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(JSONNumberFormatter.harmony(JSONNumber(validatedText: input)), expected, input)
        }
    }

    func testErrorsNameLineAndColumn() {
        func err(_ s: String) -> JSONParseError? {
            do { _ = try JSONParser.parse(s); return nil } catch { return error }
        }
        let e1 = err("{\n  \"a\": 1,\n  \"b\": tru\n}")
        XCTAssertEqual(e1?.line, 3)
        XCTAssertEqual(e1?.column, 8)
        XCTAssertEqual(e1?.message, "invalid literal, expected 'true'")
        XCTAssertEqual(err("[1, 2,]")?.message, "unexpected ']', expected a value")
        XCTAssertEqual(err("")?.message, "empty input, expected a JSON value")
        XCTAssertEqual(err("{\"a\" 1}")?.message, "expected ':' after member name \"a\"")
        XCTAssertEqual(err("\"abc")?.message, "unterminated string (opened at byte 0)")
        XCTAssertEqual(err("01")?.message, "invalid number: leading zero")
        XCTAssertEqual(err("1e999")?.message, "number 1e999 is out of range")
        XCTAssertEqual(err("\"\\ud800\"")?.message, "invalid \\u escape: high surrogate without a low surrogate")
        XCTAssertEqual(err("\"a\tb\"")?.message, "unescaped control character 0x9 in a string")
        XCTAssertEqual(err("{} x")?.message, "unexpected 'x' after the JSON value")
        XCTAssertEqual(err("é x")?.column, 1)
        XCTAssertNotNil(err(String(repeating: "[", count: 10_000)))  // nesting limit, not a stack overflow
    }

    func testInvalidUTF8IsAnError() {
        XCTAssertThrowsError(try JSONParser.parse(bytes: [0x22, 0xC3, 0x28, 0x22])) { error in
            XCTAssertEqual((error as? JSONParseError)?.message, "invalid UTF-8 sequence")
        }
        XCTAssertThrowsError(try JSONParser.parse(bytes: [0x22, 0xE2, 0x82]))
    }

    func testDictionaryLiteralKeepsOrder() {
        let v: JSONValue = ["b": 1, "a": [true, nil, "x"]]
        XCTAssertEqual(v.compactJSON(), #"{"b":1,"a":[true,null,"x"]}"#)
    }
}
