using System.Reflection;
using System.Reflection.Emit;
using System.Security.Cryptography;
using System.Text;

namespace IdentityHost.Tests.EngineGuards;

/// <summary>
/// A fingerprint of what a compiled type does: for every method it declares (its nested types included: async state
/// machines and lambdas live there), in IL order, each method it calls or creates, each field and type it touches and
/// each string it uses, by name. It changes when the code does something new or different (a new check calls or reads
/// something), not when a newer compiler lays out the same code differently (branch offsets, local slots, boolean temporaries
/// and the order of a string switch's cases are left out: between OpenIddict 7.8.0 and 7.9.0 five handlers differ only in
/// those) nor when unrelated
/// code of the same assembly renumbers its metadata tokens.
/// </summary>
public static class IlFingerprint
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!)
        .ToDictionary(code => code.Value);

    private const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Instance | BindingFlags.Static |
                                          BindingFlags.Public | BindingFlags.NonPublic;

    /// <summary>Hex SHA-256 (16 characters) of <see cref="Describe"/>.</summary>
    public static string Of(Type type) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Describe(type))))[..16].ToLowerInvariant();

    public static string Describe(Type type)
    {
        var text = new StringBuilder();
        foreach (var nested in new[] { type }.Concat(type.GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public)).OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            if (nested != type && nested.IsAssignableTo(typeof(Delegate)))
            {
                continue;
            }

            foreach (var method in nested.GetMethods(Declared).Cast<MethodBase>().Concat(nested.GetConstructors(Declared))
                         .OrderBy(m => m.ToString(), StringComparer.Ordinal))
            {
                text.Append(nested.Name).Append("::").Append(method).Append('\n');
                Append(text, method);
            }
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            return;
        }

        var module = method.Module;
        var typeArguments = method.DeclaringType!.IsGenericType ? method.DeclaringType.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var strings = new List<string>(); // as a set: a compiler may lay out a string switch's cases in another order
        for (var position = 0; position < il.Length;)
        {
            short value = il[position++];
            if (value == 0xFE)
            {
                value = (short)(0xFE00 | il[position++]);
            }

            var code = OpCodesByValue[value];
            switch (code.OperandType)
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    position += 1;
                    break;
                case OperandType.InlineVar:
                    position += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    position += 8;
                    break;
                case OperandType.InlineSwitch:
                    position += 4 + (4 * BitConverter.ToInt32(il, position));
                    break;
                case OperandType.InlineString:
                    strings.Add(module.ResolveString(BitConverter.ToInt32(il, position)));
                    position += 4;
                    break;
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok:
                    text.Append(' ').Append(code.Name).Append(' ').Append(Resolve(module, BitConverter.ToInt32(il, position), typeArguments, methodArguments));
                    position += 4;
                    break;
                default: // InlineBrTarget, InlineI, ShortInlineR, InlineSig
                    position += 4;
                    break;
            }
        }

        foreach (var literal in strings.Order(StringComparer.Ordinal))
        {
            text.Append(" \"").Append(literal).Append('"');
        }

        text.Append('\n');
    }

    /// <summary>A type's name without assembly versions (a generic type's <c>FullName</c> carries its arguments' versions).</summary>
    private static string Name(Type type)
    {
        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + "[]";
        }

        var name = type.IsGenericType ? type.GetGenericTypeDefinition().FullName ?? type.Name : type.FullName ?? type.Name;
        return type.IsConstructedGenericType ? $"{name}<{string.Join(",", type.GetGenericArguments().Select(Name))}>" : name;
    }

    private static string Resolve(Module module, int token, Type[]? typeArguments, Type[]? methodArguments)
    {
        try
        {
            return module.ResolveMember(token, typeArguments, methodArguments) switch
            {
                Type type => Name(type),
                MemberInfo member => $"{(member.DeclaringType is { } declaring ? Name(declaring) : "")}::{member}",
                _ => "?",
            };
        }
        catch (ArgumentException)
        {
            return "unresolved";
        }
    }
}
