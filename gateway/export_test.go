package gateway

import "github.com/ringout-dialer/ringout/ringcentral"

// SetBudgets replaces the users' rate budgets (a benchmark sends more than RingCentral's).
func (g *Gateway) SetBudgets(b *ringcentral.Budgets) { g.budgets = b }
