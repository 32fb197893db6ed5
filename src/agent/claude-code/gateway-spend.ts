import type { Usage } from "../../tasks/task.js";
import type { Pricing } from "../pricing.js";

/**
 * What the job's gateway relayed, priced as each answer arrives (with the ledger's Pricing), so
 * the budget holds for a command of the agent's spending through the gateway while the run goes
 * on, not only once reconcile() books it at the end.
 */
export class GatewaySpend {
  /** Every answer the gateway relayed, whoever asked: the ledger's ground truth. */
  readonly metered: Array<{ model: string; usage: Usage }> = [];
  private cost = 0;

  constructor(
    private readonly pricing: Pricing,
    private readonly fallbackModel: string,
  ) {}

  /** Keeps and prices one answer (a model without a price is priced as the job's model, as book() does). */
  add(model: string, usage: Usage): void {
    this.metered.push({ model, usage });
    this.cost += this.pricing.costOf(this.pricing.pricesOf(model) ? model : this.fallbackModel, usage);
  }

  /** The job's spend: the booked turns, or the metered answers when those are more. */
  spent(booked: number): number {
    return Math.max(booked, this.cost);
  }

  /** The gateway's admit(): a refusal once the spend reaches the budget. */
  refusal(booked: number, budgetUsd: number): string | null {
    return this.spent(booked) >= budgetUsd ? "the job's budget (AGENT_BUDGET_USD) is spent" : null;
  }
}
