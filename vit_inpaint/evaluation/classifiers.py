"""The yardsticks of `task=classify`, scored on the run's own validation and test images:
logistic regression and an RBF support-vector machine on the raw pixels (scikit-learn), and,
where the source knows its own distribution (`GaussianField.class_posterior`), the exact Bayes
classifier, the best any classifier can do.

Keys as logged beside the model's: val/acc_logreg, test/nll_svm, test/acc_bayes, ...
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

# scikit-learn's kernel SVM costs O(n^2) and more: on data with an endless supply (Gaussian
# fields, 102,400 training images) the baselines fit on the first images of the training set.
MAX_BASELINE_TRAIN = 5000
# A probability of exactly 0 on the true class would make the NLL infinite.
MIN_PROBABILITY = 1e-12


def accuracy_and_nll(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Top-1 accuracy and mean negative log-likelihood (nats) of (n, C) class probabilities."""
    accuracy = float((probabilities.argmax(axis=1) == labels).mean())
    chosen = probabilities[np.arange(len(labels)), labels]
    nll = float(-np.log(np.clip(chosen, MIN_PROBABILITY, None)).mean())
    return accuracy, nll


def baseline_classifiers(smallest_class: int = 5) -> dict:
    """The classical classifiers; smallest_class: the fewest training images of a class."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    classifiers = {"logreg": LogisticRegression(max_iter=2000)}
    # An SVM gives no probabilities of its own: Platt scaling fitted by 5-fold cross-validation
    # gives it an NLL (what SVC(probability=True) did, deprecated there); fewer folds when a
    # class has fewer than 5 images (data.labels_per_class=3, say), none with 1.
    if smallest_class >= 2:
        folds = min(5, smallest_class)
        classifiers["svm"] = CalibratedClassifierCV(SVC(kernel="rbf"), cv=folds, ensemble=False)
    return classifiers


def evaluate_classifiers(datamodule) -> dict[str, float]:
    """Accuracy and NLL of every baseline on the validation and test splits."""
    datamodule.setup()
    flat = {
        s: datamodule.images[s].reshape(len(datamodule.images[s]), -1).numpy()
        for s in ("train", "val", "test")
    }
    labels = {s: datamodule.labels[s].numpy() for s in ("train", "val", "test")}
    n = min(len(labels["train"]), MAX_BASELINE_TRAIN)
    results = {}
    present = np.bincount(labels["train"][:n])
    smallest = int(present[present > 0].min()) if n else 0
    for name, classifier in baseline_classifiers(smallest).items():
        classifier.fit(flat["train"][:n], labels["train"][:n])
        for split in ("val", "test"):
            # predict_proba's columns follow classifier.classes_: put them at their label's place.
            probabilities = np.zeros((len(labels[split]), datamodule.num_classes))
            probabilities[:, classifier.classes_] = classifier.predict_proba(flat[split])
            acc, nll = accuracy_and_nll(probabilities, labels[split])
            results[f"{split}/acc_{name}"], results[f"{split}/nll_{name}"] = acc, nll
    posterior = getattr(datamodule.source, "class_posterior", None)
    if posterior is not None and not getattr(datamodule.source, "clip", False):
        for split in ("val", "test"):
            probabilities = posterior(datamodule.images[split]).double().numpy()
            acc, nll = accuracy_and_nll(probabilities, labels[split])
            results[f"{split}/acc_bayes"], results[f"{split}/nll_bayes"] = acc, nll
    log.info("baselines: %s", ", ".join(f"{k}={v:.4f}" for k, v in sorted(results.items())))
    return results
