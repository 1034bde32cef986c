using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Nerva.ML;

/// <summary>The Nerva trainers on ML.NET's catalogs: <c>mlContext.MulticlassClassification.Trainers.Nerva(…)</c> and so on.</summary>
public static class NervaCatalog
{
    /// <summary>A multilayer perceptron for multiclass classification (see <see cref="NervaMulticlassTrainer"/>).</summary>
    public static NervaMulticlassTrainer Nerva(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, NervaTrainerOptions? options = null)
        => new(Environment(catalog), options ?? new NervaTrainerOptions());

    /// <summary>A multilayer perceptron for binary classification (see <see cref="NervaBinaryTrainer"/>).</summary>
    public static NervaBinaryTrainer Nerva(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, NervaTrainerOptions? options = null)
        => new(Environment(catalog), options ?? new NervaTrainerOptions());

    /// <summary>A multilayer perceptron for regression (see <see cref="NervaRegressionTrainer"/>).</summary>
    public static NervaRegressionTrainer Nerva(this RegressionCatalog.RegressionTrainers catalog, NervaTrainerOptions? options = null)
        => new(Environment(catalog), options ?? new NervaTrainerOptions());

    /// <summary>
    /// The catalog's context (the user's MLContext, whose log gets the progress). ML.NET keeps a catalog's context behind an internal interface
    /// (<c>IInternalCatalog.Environment</c>, for its own components); it is read here by reflection, and where a later ML.NET
    /// moves it, a context of the trainer's own is used (its log is then not the user's).
    /// </summary>
    private static IHostEnvironment Environment(object catalog)
    {
        var property = catalog.GetType().GetInterfaces().FirstOrDefault(i => i.FullName == "Microsoft.ML.Data.IInternalCatalog")?.GetProperty("Environment");
        return property?.GetValue(catalog) as IHostEnvironment ?? new MLContext();
    }
}
