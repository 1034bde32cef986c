using Nerva.Bench;

// dotnet run -c Release --project bench/Nerva.Bench -- gemm [repetitions] | epoch [epochs] | sparse ... | layer [repetitions] [threads] [densities] | memory [threads] | wide [repetitions] [threads] | million [samples] [threads] | fuzz [inputs per reader] [seed] [readers] | profile [batches] [wide] | elementwise [rounds] | peak | allreduce [calls] | overlap [rounds] (both under mpirun) | widthreport [folder] (bench/width-study.sh) | curves out.png log.csv… (a resumed run's parts) | csv [rows] [cols] | digits [folds] | serving [seconds per cell] [dense,sparse]
// (bench/run.sh runs the GEMM comparison with OpenBLAS's AVX-512 kernels.)
string what = args.Length > 0 ? args[0] : "gemm";
int repetitions = args.Length > 1 && int.TryParse(args[1], System.Globalization.CultureInfo.InvariantCulture, out int count) ? count : 3;
switch (what)
{
    case "gemm":
        GemmBenchmark.Run(Console.Out, repetitions);
        return 0;
    case "epoch":
        EpochBenchmark.Run(Console.Out, args.Length > 1 ? repetitions : 3);
        return 0;
    case "sparse":
        EpochBenchmark.RunSparse(Console.Out, args.Length > 1 ? repetitions : 3, args.Length > 2 ? int.Parse(args[2]) : 2,
            args.Length > 3 ? [.. args[3].Split(',').Select(d => double.Parse(d, System.Globalization.CultureInfo.InvariantCulture))] : [1, 0.5, 0.2, 0.1, 0.05, 0.01, 0.001],
            args.Length > 4 ? args[4] : "disabled");
        return 0;
    case "layer":
        EpochBenchmark.RunLayer(Console.Out, args.Length > 1 ? repetitions : 5, args.Length > 2 ? int.Parse(args[2]) : 2,
            args.Length > 3 ? [.. args[3].Split(',').Select(d => double.Parse(d, System.Globalization.CultureInfo.InvariantCulture))] : [1, 0.5, 0.3, 0.2, 0.1, 0.05, 0.01]);
        return 0;
    case "wide":
        MillionBenchmark.RunWide(Console.Out, args.Length > 1 ? repetitions : 5, args.Length > 2 ? int.Parse(args[2]) : 2);
        return 0;
    case "million":
        MillionBenchmark.RunMillion(Console.Out, args.Length > 1 ? repetitions : 50000, args.Length > 2 ? int.Parse(args[2]) : 2);
        return 0;
    case "profile":
        ProfileBenchmark.Run(Console.Out, args.Length > 1 ? repetitions : 200, args.Length > 2 && args[2] == "wide");
        return 0;
    case "elementwise":
        ElementwiseBenchmark.Run(Console.Out, args.Length > 1 ? repetitions : 300);
        return 0;
    case "peak":
        Console.WriteLine($"{FmaPeak.Kind}: {FmaPeak.Measure(1):F1} GFLOP/s on 1 thread, {FmaPeak.Measure(2):F1} on 2");
        return 0;
    case "capacity":
        Console.WriteLine(Capacity.TwoThreads().ToString("F2", System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case "fuzz":
        return FuzzCampaign.Run(Console.Out, args.Length > 1 ? repetitions : 20000, args.Length > 2 ? ulong.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 13,
            args.Length > 3 ? args[3].Split(',') : null);
    case "allreduce":
        AllReduceBenchmark.Run(Console.Out, args.Length > 1 ? repetitions : 50);
        return 0;
    case "widthreport":
        WidthReport.Run(Console.Out, args.Length > 1 ? args[1] : "bench/results/width-study");
        return 0;
    case "curves" when args.Length > 2:
        RunCurves.Run(Console.Out, args[1], args[2..]);
        return 0;
    case "overlap":
        OverlapBenchmark.Run(Console.Out, args.Length > 1 ? repetitions : 5);
        return 0;
    case "serving":
        string[] models = args.Length > 2 ? args[2].Split(',') : ServingBenchmark.Models;
        if (models.Any(m => !ServingBenchmark.Models.Contains(m)))
        {
            Console.Error.WriteLine($"error: unknown model in '{args[2]}' (valid: dense, sparse, or both: dense,sparse)");
            return 1;
        }
        ServingBenchmark.Run(Console.Out, args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1, models);
        return 0;
    case "digits":
        TabularBenchmark.Run(Console.Out, args.Length > 1 ? repetitions : 5);
        return 0;
    case "csv":
        CsvBenchmark.Run(Console.Out, args.Length > 1 ? repetitions : 1_000_000, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 100);
        return 0;
    case "memory":
        EpochBenchmark.RunMemory(Console.Out, args.Length > 1 ? repetitions : 2);
        return 0;
    default:
        Console.Error.WriteLine($"error: unknown benchmark '{what}' (valid: gemm, epoch, sparse, layer, memory, csv, digits, serving, wide, million, capacity, fuzz, profile, elementwise, peak, allreduce, overlap, widthreport, curves)");
        return 1;
}
