package io.github.sparksam.optim

import java.util.function.ToDoubleBiFunction

import breeze.linalg.DenseVector
import breeze.optimize.DiffFunction

/**
 * A Breeze `DiffFunction` over an objective written in Java: `f(w, grad)` returns the value at `w`
 * and writes the gradient into `grad`. The project's only Scala class, because javac cannot
 * implement the trait (`StochasticDiffFunction.apply` returns `Double` where `Function1.apply`
 * returns `Object`; only scalac emits the bridge). Used by [[Lbfgs]].
 */
final class BreezeDiffFunction(f: ToDoubleBiFunction[Array[Double], Array[Double]])
    extends DiffFunction[DenseVector[Double]] {

  override def calculate(x: DenseVector[Double]): (Double, DenseVector[Double]) = {
    val w = x.toArray
    val g = new Array[Double](w.length)
    val v = f.applyAsDouble(w, g)
    (v, DenseVector(g))
  }
}
