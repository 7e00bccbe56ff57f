using System.Text;

namespace IdentityHost.Tests.Abuse;

/// <summary>Hostile values, encodings and media types for <see cref="RequestFuzzer"/>; every choice comes from one seeded Random.</summary>
internal sealed class FuzzValues(Random random)
{
    private static readonly string[] Strings =
    [
        "", " ", "null", "undefined", "true", "0", "-1", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
        "1e309", "NaN", "2147483648", "0x7fffffff", "%zz", "%E0%A4%A", "%", "%%", "%00", "%C0%AF", "\0", "\u0001\u001f",
        "é", "😀", "\uD800", "\uFFFF", "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "{\"a\":1}", "[1,2]",
        "a b", "a+b", "a&b=c", "=", "&", "openid openid", "  openid  ", "S256", "plain", "none", "login", "consent",
        "http://localhost:5002/callback.html", "https://attacker.example/", "javascript:alert(1)", "//evil.example",
        "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:device_code", "token", "id_token",
        "code id_token", "form_post", "fragment", "query", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "a.b.c", "a.b.c.d.e",
    ];

    private static readonly string[] MediaTypes =
    [
        "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
        "application/x-www-form-urlencoded; charset=bogus", "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=\"unterminated", "application/x-www-form-urlencoded, application/json",
        "application/json", "application/json; charset=utf-8", "application/json; charset=latin1", "text/plain",
        "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=fuzz",
        "multipart/form-data; boundary=\"" + new string('b', 300) + "\"", "application/", "/", ";;;", "x", "*/*",
        "application/x-www-form-urlencoded;;", "APPLICATION/X-WWW-FORM-URLENCODED", "text/html; charset=utf-8",
        "application/xml", "application/jwt", "application/x-www-form-urlencoded; boundary=x; charset=utf-8; q=0.5",
    ];

    public Random Random => random;

    public bool Chance(double probability) => random.NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>A hostile string: a known troublemaker, random text, or something long.</summary>
    public string Value() => random.Next(10) switch
    {
        < 5 => Pick(Strings),
        < 7 => Text(random.Next(1, 40)),
        7 => new string(Pick(['a', '%', '=', '&', '0', ' ', '.']), random.Next(300, 5000)),
        8 => Text(random.Next(2_000, 70_000)),
        _ => Pick(Strings) + Text(random.Next(1, 10)),
    };

    /// <summary>Random characters: ASCII, controls, Latin-1, astral, lone surrogates.</summary>
    public string Text(int length)
    {
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(random.Next(20) switch
            {
                0 => (char)random.Next(0, 32),
                1 => (char)random.Next(128, 256),
                2 => (char)random.Next(0xD800, 0xE000),
                3 => (char)random.Next(0x4E00, 0x9FFF),
                _ => (char)random.Next(32, 127),
            });
        }

        return builder.ToString();
    }

    /// <summary>Printable ASCII only: header values a real Kestrel would accept.</summary>
    public string HeaderText(int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = (char)random.Next(32, 127);
        }

        return new string(chars);
    }

    public byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    public string? MediaType() => random.Next(10) switch
    {
        0 => null,
        1 => HeaderText(random.Next(1, 100)),
        _ => Pick(MediaTypes),
    };

    /// <summary>Form encoding with the usual mistakes: raw (unescaped) values, huge keys, missing '=', truncation.</summary>
    public byte[] FormBody(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var parts = parameters.Select(parameter => random.Next(12) switch
        {
            0 => parameter.Key + "=" + parameter.Value,
            1 => parameter.Key,
            2 => new string('k', random.Next(257, 5000)) + "=" + Uri.EscapeDataString(parameter.Value.Length > 100 ? parameter.Value[..100] : parameter.Value),
            _ => Escape(parameter.Key) + "=" + Escape(parameter.Value),
        });
        var body = Encoding.UTF8.GetBytes(string.Join(Chance(0.05) ? ";" : "&", parts));
        return Chance(0.1) && body.Length > 1 ? body[..random.Next(1, body.Length)] : body;
    }

    /// <summary>JSON in the shapes a careless or hostile client sends: right, wrong types, deep, broken, not JSON at all.</summary>
    public byte[] JsonBody(IEnumerable<KeyValuePair<string, string>> parameters) => Encoding.UTF8.GetBytes(random.Next(8) switch
    {
        0 => new string('[', random.Next(65, 20_000)) + new string(']', random.Next(0, 3)),
        1 => "{\"a\":" + string.Concat(Enumerable.Repeat("{\"a\":", random.Next(60, 2_000))) + "1",
        2 => "{" + string.Join(",", parameters.Select(p => $"\"{p.Key}\":{Pick(["1", "null", "[]", "{}", "true", "\"" + p.Value.Replace("\"", "", StringComparison.Ordinal) + "\""])}")),
        3 => "{" + string.Join(",", parameters.Select(p => $"\"{p.Key}\":\"{p.Value.Replace("\"", "", StringComparison.Ordinal)}\"")) + ",\"" + parameters.FirstOrDefault().Key + "\":\"dup\"}",
        4 => Pick(["", "null", "[]", "\"x\"", "1", "{", "{\"username\":", "\uFEFF{}", "{}garbage"]),
        _ => System.Text.Json.JsonSerializer.Serialize(parameters.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => RemoveLoneSurrogates(g.Last().Value))),
    });

    public byte[] MultipartBody(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var builder = new StringBuilder();
        foreach (var (key, value) in parameters)
        {
            builder.Append("--fuzz\r\nContent-Disposition: form-data; name=\"").Append(key).Append(Chance(0.2) ? "\"; filename=\"a.txt" : "")
                .Append("\"\r\n\r\n").Append(value).Append("\r\n");
        }

        builder.Append(Chance(0.7) ? "--fuzz--\r\n" : "--fu");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    private string Escape(string value) => Chance(0.1) ? value.Replace("&", "%26", StringComparison.Ordinal) : Uri.EscapeDataString(RemoveLoneSurrogates(value));

    private static string RemoveLoneSurrogates(string value)
    {
        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                builder.Append(value[i]).Append(value[++i]);
            }
            else if (!char.IsSurrogate(value[i]))
            {
                builder.Append(value[i]);
            }
        }

        return builder.ToString();
    }
}
