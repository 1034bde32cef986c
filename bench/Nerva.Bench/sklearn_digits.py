"""scikit-learn's MLPClassifier with its defaults on the digits, on the folds the C# benchmark wrote (one fold index per
row): one Markdown row of the macro accuracy per fold, the mean, and the training seconds summed over the folds."""
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import recall_score
from sklearn.neural_network import MLPClassifier

data = np.loadtxt(sys.argv[1], delimiter=",")
X, y = data[:, :64], data[:, 64].astype(int)
fold = np.loadtxt(sys.argv[2], dtype=int)
accuracies, seconds = [], 0.0
for f in range(fold.max() + 1):
    train, test = fold != f, fold == f
    model = MLPClassifier(random_state=1)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[train], y[train])
    seconds += time.perf_counter() - start
    # macro accuracy (ML.NET's): the mean over classes of each class's recall
    accuracies.append(recall_score(y[test], model.predict(X[test]), average="macro"))
print(f"| scikit-learn {__import__('sklearn').__version__} MLPClassifier (defaults) | " + " | ".join(f"{a:.4f}" for a in accuracies)
      + f" | {np.mean(accuracies):.4f} | {seconds:.2f} |")
