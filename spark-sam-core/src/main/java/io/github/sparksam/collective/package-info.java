/**
 * Collectives for the tasks of one long-running barrier stage: a driver-hosted {@link
 * io.github.sparksam.collective.Rendezvous} (the tasks find each other in milliseconds, where
 * {@code BarrierTaskContext.allGather} polls once a second) and a {@link
 * io.github.sparksam.collective.RingAllReduce} over the tasks' own sockets whose sums are added in
 * partition order, so they are bit-identical to the driver adding the partitions' results.
 *
 * <p>On a shared network every connection proves a per-fit secret both ways ({@code Handshake}),
 * is encrypted with AES-GCM when Spark encrypts ({@link io.github.sparksam.collective.CollectiveSession}),
 * and listens on Spark's host for its JVM: see docs/SECURITY.md.
 */
package io.github.sparksam.collective;
