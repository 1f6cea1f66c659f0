/** Evaluation metrics as the paper reports them. Pure functions on plain arrays. */

/** Recall@K in percent and the median rank (1-based) from the rank of each query's true match. */
export function retrievalMetrics(ranks: ArrayLike<number>): { 'R@1': number; 'R@5': number; 'R@10': number; median_rank: number } {
  const n = ranks.length
  const sorted = Float64Array.from(ranks).sort()
  const recall = (k: number): number => (100 * sorted.filter((r) => r <= k).length) / n
  // numpy.median semantics: the mean of the two middle values for an even count
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
  return { 'R@1': recall(1), 'R@5': recall(5), 'R@10': recall(10), median_rank: median }
}

/**
 * Average precision of one class as sklearn's average_precision_score: AP = Σ_n (R_n − R_{n−1}) P_n over
 * the distinct score thresholds (tied scores enter together). NaN when the class has no positive.
 */
export function averagePrecision(scores: ArrayLike<number>, positives: ArrayLike<boolean>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a])
  const totalPos = Array.from(positives).filter(Boolean).length
  if (totalPos === 0) return NaN
  let tp = 0
  let seen = 0
  let prevRecall = 0
  let ap = 0
  for (let k = 0; k < order.length; k++) {
    seen++
    if (positives[order[k]]) tp++
    const lastOfTie = k === order.length - 1 || scores[order[k + 1]] !== scores[order[k]]
    if (!lastOfTie) continue
    const recall = tp / totalPos
    ap += (recall - prevRecall) * (tp / seen)
    prevRecall = recall
  }
  return ap
}

/** mAP over classes that have at least one positive; scores and targets are [N, C] row-major. */
export function meanAveragePrecision(scores: Float32Array, targets: Float32Array, classes: number): number {
  const n = scores.length / classes
  const aps: number[] = []
  for (let c = 0; c < classes; c++) {
    const s = Array.from({ length: n }, (_, i) => scores[i * classes + c])
    const p = Array.from({ length: n }, (_, i) => targets[i * classes + c] > 0.5)
    const ap = averagePrecision(s, p)
    if (!Number.isNaN(ap)) aps.push(ap)
  }
  return aps.reduce((a, b) => a + b, 0) / aps.length
}

/** Top-k accuracy in percent; a tie with the true class counts against it (strictly greater scores rank above). */
export function topKAccuracy(scores: Float32Array, labels: ArrayLike<number>, classes: number, k: number): number {
  let hits = 0
  for (let i = 0; i < labels.length; i++) {
    const truth = scores[i * classes + labels[i]]
    let above = 0
    for (let c = 0; c < classes; c++) if (c !== labels[i] && scores[i * classes + c] >= truth) above++
    if (above < k) hits++
  }
  return (100 * hits) / labels.length
}
