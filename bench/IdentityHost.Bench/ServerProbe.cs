using System.Diagnostics;
using System.Globalization;

namespace IdentityHost.Bench;

/// <summary>
/// Reads a process's CPU time from <c>/proc/PID/stat</c> (utime + stime, fields 14 and 15, in clock ticks of
/// <c>getconf CLK_TCK</c>) and its memory from <c>/proc/PID/status</c> (VmRSS now, VmHWM the peak since it started).
/// </summary>
internal sealed class ServerProbe(int pid)
{
    private static readonly Lazy<long> ClockTicksPerSecond = new(ReadClockTicks);

    public int Pid => pid;

    public static long TicksPerSecond => ClockTicksPerSecond.Value;

    public bool IsAlive => File.Exists($"/proc/{pid}/stat");

    /// <summary>User + system CPU seconds the process has used so far.</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");

        // Field 2 (comm) is in parentheses and may hold spaces: count fields after the last ')'. Field 3 is first there.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[14 - 3], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[15 - 3], CultureInfo.InvariantCulture);
        return (utime + stime) / (double)TicksPerSecond;
    }

    /// <summary>(VmRSS, VmHWM) in MiB; VmHWM is the resident high-water mark since the process started.</summary>
    public (double RssMb, double HwmMb) Memory()
    {
        double rss = 0, hwm = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = KilobytesToMb(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                hwm = KilobytesToMb(line);
            }
        }

        return (rss, hwm);
    }

    /// <summary>
    /// Busy CPU seconds of the whole machine so far, all cores together, from the first line of <c>/proc/stat</c>
    /// (user, nice, system, irq, softirq and steal; idle and iowait are not busy).
    /// </summary>
    public static double MachineBusySeconds()
    {
        using var reader = new StreamReader("/proc/stat");
        var fields = (reader.ReadLine() ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long Field(int index) => fields.Length > index ? long.Parse(fields[index], CultureInfo.InvariantCulture) : 0;
        return (Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8)) / (double)TicksPerSecond;
    }

    private static double KilobytesToMb(string line) =>
        long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;

    /// <summary><c>getconf CLK_TCK</c>; 100 (the Linux USER_HZ almost everywhere) when getconf is missing.</summary>
    private static long ReadClockTicks()
    {
        try
        {
            using var getconf = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true, UseShellExecute = false });
            if (getconf is not null)
            {
                var text = getconf.StandardOutput.ReadToEnd().Trim();
                getconf.WaitForExit(5000);
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks > 0)
                {
                    return ticks;
                }
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }

        return 100;
    }
}
