//! Bertrand–Nash pricing in a multinomial logit market with an outside option: multi-product
//! owners, installed bases (Klemperer's harvest), forward-looking customer values (invest),
//! switching costs as segment bonuses, and capacities with shadow prices.
//!
//! Products `j = 0..J`, each owned by `o(j)`. The owner sets one price component `f_j` (a model
//! fee, a marketplace margin); others set `fixed_j ≥ 0` (e.g. compute cost). For a buyer in
//! segment g (mass `M_g` choosing this month):
//!
//! ```text
//! P_j   = fixed_j + f_j
//! U_gj  = a_j − π(P_j) + bonus_gj,     π(P) = β·ln P  (log form, the model's)  or  α·P  (linear)
//! U_g0  = a_g0                         (outside option)
//! s_gj  = exp U_gj / (exp U_g0 + Σ_k exp U_gk)
//! W_j   = Σ_g M_g s_gj                 (the flow won this month)
//! D_j   = B_j + W_j                    (B_j ≥ 0: installed base that pays this month's price
//!                                       without choosing)
//! L_j   = δ(1−h) / (1 − δ(1−h))        (expected future months of a customer won now)
//! Π_o   = Σ_{j∈o} (f_j − c_j)·D_j + Σ_{j∈o} (f_j − c_j)·L_j·W_j
//! ```
//!
//! A segment's `bonus` carries switching costs: buyers reviewing while on product k form their
//! own segment with `+b` on k (the stay bonus).
//!
//! A customer won now is valued at the steady-state margin: `(f_j − c_j)·L_j` is held at the
//! current price when differentiating (the owner does not count that a price rise today also
//! raises the margin of tomorrow's customers, which the future price decides). With effective
//! margins `e_k = (1 + L_k)(f_k − c_k)` the first-order condition of each `j ∈ o` is
//!
//! ```text
//! F_j = D_j + Σ_{k∈o} (f_k − c_k)·∂D_k/∂f_j + Σ_{k∈o} (f_k − c_k)·L_k·∂W_k/∂f_j
//!     = D_j − π'(P_j)·Σ_g M_g s_gj (e_j − E_g) = 0,      E_g = Σ_{k∈o} e_k s_gk
//! ∂s_gk/∂f_j = −π'(P_j)·s_gj(1 − s_gj)  (k = j),   +π'(P_j)·s_gk s_gj  (k ≠ j),
//! π'(P) = β/P (log) or α (linear)
//! ```
//!
//! `E_g` is the margin the owner recaptures on a buyer of segment g who leaves j for one of its
//! other products. The installed base enters `D_j` (a higher `B` raises the price: harvest), and
//! with an elasticity `ε_j > 0` also `∂D/∂f`: `B_j(P) = B_j ((P + a_j)/(P̄_j + a_j))^(−ε_j)` adds
//! the harvest term `B_j(P)(1 − ε_j (f_j − c_j)/(P_j + a_j))` in place of `B_j` (with `ε ≤ 1`
//! the base's profit still rises with price for ever: see the ceiling below); `L > 0`
//! scales the margin earned on the flow (it lowers the price: invest).
//! Single product, one segment: `(1 + L)(f − c) = (B + W) / (π'(P)·W·(1 − s))`, so with `B = L = 0`
//! the textbook `p − c = 1/(α(1 − s))` (linear) and `(P − fixed − c)/P = 1/(β(1 − s))` (log).
//!
//! Best response ([`best_response`]): Gauss–Seidel over the owner's products, each an exact 1-D
//! solve of `F_j = 0` with the others held (bracketing and bisection, so it passes the region
//! where the log-form profit still rises with price, `β(1 − s) ≤ 1`, and finds the interior
//! maximum), accelerated by Newton steps on the owner's whole system (analytic Jacobian).
//! Fees stay in `[max(c_j, floor), f_max]`; a product whose marginal profit is still positive at
//! `f_max` is clipped there and reported ([`Binding::Ceiling`]): with the log form and `β ≤ 1` the
//! profit never turns down, and with an installed base the profit `(f − c)·B` grows without bound,
//! so the FOC root found is a local maximum (the first one above cost) and `f_max` caps the
//! harvest. If demand at the 1-D optimum exceeds a capacity `K_j`, the fee rises to the clearing
//! level `D_j = K_j` (bisection; the shadow component `f_clear − f_BR ≥ 0` is reported).
//!
//! Equilibrium ([`equilibrium`]): simultaneous best responses of every owner (Jacobi), damped as
//! the monthly dynamics are ([`damped_step`]), until `max |BR − f| < tol`.

/// How the total price enters utility.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PriceForm {
    /// `π(P) = β·ln P` (the model's form; own-price elasticity `−β(1 − s)`).
    Log {
        /// Utility per unit of log price.
        beta: f64,
    },
    /// `π(P) = α·P` (the textbook form).
    Linear {
        /// Utility per unit of price.
        alpha: f64,
    },
}

impl PriceForm {
    /// The price term `π(P)` subtracted from utility.
    pub fn term(&self, price: f64) -> f64 {
        match *self {
            PriceForm::Log { beta } => beta * price.ln(),
            PriceForm::Linear { alpha } => alpha * price,
        }
    }

    /// `π'(P)`: utility lost per unit of price (the marginal utility of money for the linear form).
    pub fn slope(&self, price: f64) -> f64 {
        match *self {
            PriceForm::Log { beta } => beta / price,
            PriceForm::Linear { alpha } => alpha,
        }
    }

    /// `π''(P)`, for the Newton Jacobian.
    fn curvature(&self, price: f64) -> f64 {
        match *self {
            PriceForm::Log { beta } => -beta / (price * price),
            PriceForm::Linear { .. } => 0.0,
        }
    }
}

/// One product of the market.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// `a_j`: utility before price and segment bonuses.
    pub base_utility: f64,
    /// `fixed_j ≥ 0`: the part of the price set by others (e.g. compute cost).
    pub fixed: f64,
    /// `c_j ≥ 0`: marginal cost of the controlled component.
    pub cost: f64,
    /// Owner id; products with the same owner are priced jointly.
    pub owner: usize,
    /// `B_j ≥ 0`: installed base that pays this month's price without choosing (at the reference
    /// price).
    pub installed: f64,
    /// `ε_j ≥ 0`: the installed base's quantity responds to a downstream price `P + a_j`:
    /// `B_j(P) = B_j·((P + a_j)/(P̄_j + a_j))^(−ε_j)` (0: the base buys the same quantity at any
    /// price; a budget-constrained buyer spending a fixed sum has ε = 1, a = 0; a reseller's
    /// customers with logit demand in the resale price `(1 + m)(P + a)` have ε = β(1 − s)).
    pub installed_elasticity: f64,
    /// `P̄_j > 0`: the price at which the installed base is `B_j` (unused when `ε_j = 0`).
    pub reference_price: f64,
    /// `a_j ≥ 0`: what the downstream price adds to `P_j` (e.g. a model fee over the resale markup).
    pub installed_offset: f64,
    /// `K_j`: most quantity the product can serve (`None`: unlimited).
    pub capacity: Option<f64>,
    /// `L_j`: expected future months of a customer won now ([`future_months`]).
    pub future_months: f64,
}

impl Product {
    /// A product with utility `a_j`, fixed price part `fixed` and no cost, owner 0, installed
    /// base, capacity or future months (set the others with struct update syntax).
    pub fn new(base_utility: f64, fixed: f64) -> Product {
        Product {
            base_utility,
            fixed,
            cost: 0.0,
            owner: 0,
            installed: 0.0,
            installed_elasticity: 0.0,
            reference_price: 1.0,
            installed_offset: 0.0,
            capacity: None,
            future_months: 0.0,
        }
    }

    /// `B_j(P)`: the installed base's quantity at total price `price`.
    pub fn installed_at(&self, price: f64) -> f64 {
        if self.installed_elasticity == 0.0 || self.installed == 0.0 {
            self.installed
        } else {
            let a = self.installed_offset;
            self.installed * ((price + a) / (self.reference_price + a)).powf(-self.installed_elasticity)
        }
    }

    /// `∂[(f − c)·B(P)]/∂f = B(P)·(1 − ε(f − c)/(P + a))`: the harvest term of the FOC at `fee`.
    fn harvest(&self, fee: f64) -> f64 {
        let down = self.fixed + fee + self.installed_offset;
        self.installed_at(self.fixed + fee) * (1.0 - self.installed_elasticity * (fee - self.cost) / down)
    }

    /// `∂ harvest / ∂f = B(P)·ε·(−2 + (1 + ε)(f − c)/(P + a))/(P + a)`: its slope (for Newton).
    fn harvest_slope(&self, fee: f64) -> f64 {
        let down = self.fixed + fee + self.installed_offset;
        let eps = self.installed_elasticity;
        self.installed_at(self.fixed + fee) * eps * (-2.0 + (1.0 + eps) * (fee - self.cost) / down) / down
    }
}

/// One buyer segment choosing this month.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// `M_g`: quantity choosing this month.
    pub mass: f64,
    /// `U_g0`: utility of the outside option.
    pub outside_utility: f64,
    /// `bonus_gj` per product (stay bonus of buyers currently on j, data gravity, …); empty means 0.
    pub bonus: Vec<f64>,
}

/// A logit market: price form, products and segments.
#[derive(Debug, Clone, PartialEq)]
pub struct Market {
    /// How price enters utility.
    pub form: PriceForm,
    /// The products.
    pub products: Vec<Product>,
    /// The segments choosing this month.
    pub segments: Vec<Segment>,
}

impl Market {
    /// Total price `P_j = fixed_j + f_j`.
    pub fn price(&self, fees: &[f64], j: usize) -> f64 {
        self.products[j].fixed + fees[j]
    }

    /// `a_j + bonus_gj`: product j's utility in segment g before price.
    fn pre_price(&self, g: usize, j: usize) -> f64 {
        self.products[j].base_utility + self.segments[g].bonus.get(j).copied().unwrap_or(0.0)
    }

    /// `U_gj` at fee `fee`.
    fn utility(&self, g: usize, j: usize, fee: f64) -> f64 {
        self.pre_price(g, j) - self.form.term(self.products[j].fixed + fee)
    }

    /// Distinct owners, in order of first appearance.
    pub fn owners(&self) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for p in &self.products {
            if !out.contains(&p.owner) {
                out.push(p.owner);
            }
        }
        out
    }
}

/// Expected future months of a customer won now: `L = δ(1−h) / (1 − δ(1−h)) = Σ_{t≥1} (δ(1−h))^t`,
/// with monthly discount factor `δ ∈ [0, 1)` and monthly leaving hazard `h ∈ (0, 1]`.
pub fn future_months(delta: f64, hazard: f64) -> f64 {
    let keep = delta * (1.0 - hazard);
    keep / (1.0 - keep)
}

/// One month of price adjustment: `current + θ·(best_response − current)`, `θ ∈ (0, 1]`.
pub fn damped_step(current: f64, best_response: f64, damping: f64) -> f64 {
    current + damping * (best_response - current)
}

/// `ln(exp U_g0 + Σ_k exp U_gk)`: segment g's inclusive value (for the log-sum surplus).
pub fn log_sum(m: &Market, fees: &[f64], g: usize) -> f64 {
    let u0 = m.segments[g].outside_utility;
    let u: Vec<f64> = (0..m.products.len()).map(|j| m.utility(g, j, fees[j])).collect();
    let max = u.iter().fold(u0, |a, &b| a.max(b));
    max + ((u0 - max).exp() + u.iter().map(|x| (x - max).exp()).sum::<f64>()).ln()
}

/// Choice probabilities of segment g: every product's and the outside option's. Stable for any
/// utility level (the largest utility is subtracted before `exp`).
pub fn shares(m: &Market, fees: &[f64], g: usize) -> (Vec<f64>, f64) {
    let u0 = m.segments[g].outside_utility;
    let mut s: Vec<f64> = (0..m.products.len()).map(|j| m.utility(g, j, fees[j])).collect();
    let max = s.iter().fold(u0, |a, &b| a.max(b));
    let w0 = (u0 - max).exp();
    let mut total = w0;
    for x in s.iter_mut() {
        *x = (*x - max).exp();
        total += *x;
    }
    for x in s.iter_mut() {
        *x /= total;
    }
    (s, w0 / total)
}

/// Shares of every segment, `[g][j]`.
fn all_shares(m: &Market, fees: &[f64]) -> Vec<Vec<f64>> {
    (0..m.segments.len()).map(|g| shares(m, fees, g).0).collect()
}

/// `W_j = Σ_g M_g s_gj`: the flow each product wins this month.
pub fn flows(m: &Market, fees: &[f64]) -> Vec<f64> {
    let mut w = vec![0.0; m.products.len()];
    for (g, seg) in m.segments.iter().enumerate() {
        for (wj, s) in w.iter_mut().zip(shares(m, fees, g).0) {
            *wj += seg.mass * s;
        }
    }
    w
}

/// `D_j = B_j + W_j`: installed base plus the flow won.
pub fn demands(m: &Market, fees: &[f64]) -> Vec<f64> {
    flows(m, fees)
        .iter()
        .zip(&m.products)
        .enumerate()
        .map(|(j, (w, p))| p.installed_at(m.price(fees, j)) + w)
        .collect()
}

/// Served quantity `min(D_j, K_j)`.
pub fn served(m: &Market, demands: &[f64]) -> Vec<f64> {
    demands
        .iter()
        .zip(&m.products)
        .map(|(&d, p)| p.capacity.map_or(d, |k| d.min(k)))
        .collect()
}

/// The owner's objective `Π_o = Σ_{j∈o} (f_j − c_j)·(D_j + L_j·W_j)` (this month's profit plus the
/// value of the customers won this month at the current margin; demand, not capacity-served).
pub fn owner_profit(m: &Market, fees: &[f64], owner: usize) -> f64 {
    let w = flows(m, fees);
    m.products
        .iter()
        .enumerate()
        .filter(|(_, p)| p.owner == owner)
        .map(|(j, p)| (fees[j] - p.cost) * (p.installed_at(m.price(fees, j)) + w[j] * (1.0 + p.future_months)))
        .sum()
}

/// The FOC residuals `F_j` of the owner's products, `(j, F_j)`; zero at an interior best response.
pub fn foc(m: &Market, fees: &[f64], owner: usize) -> Vec<(usize, f64)> {
    let own: Vec<usize> = (0..m.products.len())
        .filter(|&j| m.products[j].owner == owner)
        .collect();
    let (f, _) = owner_system(m, fees, &own, &own, false);
    own.into_iter().zip(f).collect()
}

/// The FOC residuals of the products `free ⊆ own` and, if asked, their Jacobian `∂F_j/∂f_i`
/// (row j, column i). With `d = π'`, `X_j = Σ_g M_g s_gj (E_g − e_j)` (so `F_j = D_j + d_j X_j`):
///
/// ```text
/// ∂F_j/∂f_i = Σ_g M_g s_gi s_gj [d_i + d_j(1 + L_i) + d_i d_j (2E_g − e_i − e_j)]
///           + [i = j]·(π''_j X_j − d_j² X_j − d_j (2 + L_j) W_j)
/// ```
fn owner_system(m: &Market, fees: &[f64], own: &[usize], free: &[usize], jacobian: bool) -> (Vec<f64>, Vec<f64>) {
    let s = all_shares(m, fees);
    let e = |k: usize| (1.0 + m.products[k].future_months) * (fees[k] - m.products[k].cost);
    let big_e: Vec<f64> = s.iter().map(|sg| own.iter().map(|&k| e(k) * sg[k]).sum()).collect();
    let p = |j: usize| m.price(fees, j);
    let d: Vec<f64> = free.iter().map(|&j| m.form.slope(p(j))).collect();
    let mut f = Vec::with_capacity(free.len());
    let mut x = Vec::with_capacity(free.len());
    let mut w = Vec::with_capacity(free.len());
    for (a, &j) in free.iter().enumerate() {
        let (mut wj, mut xj) = (0.0, 0.0);
        for (g, seg) in m.segments.iter().enumerate() {
            wj += seg.mass * s[g][j];
            xj += seg.mass * s[g][j] * (big_e[g] - e(j));
        }
        f.push(m.products[j].harvest(fees[j]) + wj + d[a] * xj);
        x.push(xj);
        w.push(wj);
    }
    if !jacobian {
        return (f, Vec::new());
    }
    let n = free.len();
    let mut jac = vec![0.0; n * n];
    for (a, &j) in free.iter().enumerate() {
        for (b, &i) in free.iter().enumerate() {
            let li = m.products[i].future_months;
            let mut v = 0.0;
            for (g, seg) in m.segments.iter().enumerate() {
                v += seg.mass
                    * s[g][i]
                    * s[g][j]
                    * (d[b] + d[a] * (1.0 + li) + d[a] * d[b] * (2.0 * big_e[g] - e(i) - e(j)));
            }
            if a == b {
                let lj = m.products[j].future_months;
                v += m.form.curvature(p(j)) * x[a] - d[a] * d[a] * x[a] - d[a] * (2.0 + lj) * w[a]
                    + m.products[j].harvest_slope(fees[j]);
            }
            jac[a * n + b] = v;
        }
    }
    (f, jac)
}

/// Solves `A·x = b` (row-major `n × n`) by Gaussian elimination with partial pivoting;
/// `None` if singular.
fn solve_linear(mut a: Vec<f64>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&r, &q| a[r * n + col].abs().total_cmp(&a[q * n + col].abs()))?;
        if a[piv * n + col].abs() < 1e-300 || !a[piv * n + col].is_finite() {
            return None;
        }
        if piv != col {
            for k in 0..n {
                a.swap(piv * n + k, col * n + k);
            }
            b.swap(piv, col);
        }
        for r in col + 1..n {
            let factor = a[r * n + col] / a[col * n + col];
            for k in col..n {
                a[r * n + k] -= factor * a[col * n + k];
            }
            b[r] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let tail: f64 = (r + 1..n).map(|k| a[r * n + k] * x[k]).sum();
        x[r] = (b[r] - tail) / a[r * n + r];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Settings of the best-response and equilibrium solvers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Solver {
    /// Upper bound on every fee: fees are clipped here and the clip is reported.
    pub f_max: f64,
    /// Smallest fee (> 0 keeps `ln P` finite in the log form when `fixed = c = 0`).
    pub floor: f64,
    /// Convergence tolerance on fee changes (price units).
    pub tol: f64,
    /// Most Gauss–Seidel sweeps in one owner's best response.
    pub max_sweeps: usize,
    /// Start the first sweep at the current fees instead of searching each product up from its
    /// lower bound (cheaper when fees move little from month to month; with several local maxima
    /// it may settle on the one nearest the current fee rather than the first above cost).
    pub warm_start: bool,
    /// Accelerate the sweeps by Newton steps on the owner's whole system (off: Gauss–Seidel
    /// sweeps alone, cheaper when a warm start leaves little to do).
    pub newton: bool,
}

impl Default for Solver {
    fn default() -> Self {
        Solver {
            f_max: 1e3,
            floor: 1e-9,
            tol: 1e-10,
            max_sweeps: 500,
            warm_start: false,
            newton: true,
        }
    }
}

/// What decided a product's fee in a best response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// An interior root of the FOC (or a product not priced by this owner).
    Interior,
    /// The lower bound `max(c_j, floor)`: marginal profit already negative there.
    Floor,
    /// Clipped at `f_max`: marginal profit still positive there.
    Ceiling,
    /// Raised to the capacity-clearing level `D_j = K_j` (at `f_max` if even that cannot clear,
    /// i.e. the installed base alone exceeds capacity).
    Capacity,
}

/// One owner's best response.
#[derive(Debug, Clone, PartialEq)]
pub struct BestResponse {
    /// Every product's fee; only the owner's entries differ from the input.
    pub fees: Vec<f64>,
    /// Per product, what decided its fee (`Interior` for products of other owners).
    pub binding: Vec<Binding>,
    /// Per product, the capacity shadow component `f_clear − f_unconstrained ≥ 0`.
    pub shadow: Vec<f64>,
    /// Whether the last sweep moved every fee by less than the tolerance.
    pub converged: bool,
    /// Gauss–Seidel sweeps used.
    pub sweeps: usize,
}

/// `1/(1 + e^{−x})` without overflow.
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The bracketed root of a function that is positive below it: searches from `start` (upward
/// while `phi > 0`, downward while `phi ≤ 0`) in doubling steps, then narrows the bracket by the
/// Illinois method (regula falsi that halves a stale end's value, so both ends converge; a step
/// that would leave the bracket bisects instead). Starting at the lower bound finds the first
/// downward crossing above it. `step` is the first step relative to `max(|start|, 1)`: small from a
/// lower bound, so that no crossing is stepped over, larger from a warm start near the root.
pub(crate) fn find_crossing(phi: impl Fn(f64) -> f64, start: f64, lo: f64, hi: f64, step: f64) -> (f64, Binding) {
    let step0 = step * start.abs().max(1.0);
    let (mut a, mut b, mut fa, mut fb);
    let mut h = step0;
    let f_start = phi(start);
    if f_start > 0.0 {
        (a, fa) = (start, f_start);
        loop {
            if a >= hi {
                return (hi, Binding::Ceiling);
            }
            let x = (start + h).min(hi);
            let fx = phi(x);
            if fx <= 0.0 {
                (b, fb) = (x, fx);
                break;
            }
            (a, fa) = (x, fx);
            h *= 2.0;
        }
    } else {
        (b, fb) = (start, f_start);
        loop {
            if b <= lo {
                return (lo, Binding::Floor);
            }
            let x = (start - h).max(lo);
            let fx = phi(x);
            if fx > 0.0 {
                (a, fa) = (x, fx);
                break;
            }
            (b, fb) = (x, fx);
            h *= 2.0;
        }
    }
    // Which end moved last: +1 the lower, −1 the upper (Illinois halves the other end's value
    // when the same end moves twice).
    let mut last = 0i8;
    for _ in 0..200 {
        if b - a <= 1e-15 * b.abs().max(1.0) {
            break;
        }
        let mut x = if fa.is_finite() && fb.is_finite() && fa > fb {
            (a * fb - b * fa) / (fb - fa)
        } else {
            0.5 * (a + b)
        };
        if !(x > a && x < b) {
            x = 0.5 * (a + b);
            if !(x > a && x < b) {
                break;
            }
        }
        let fx = phi(x);
        if fx > 0.0 {
            (a, fa) = (x, fx);
            if last == 1 {
                fb *= 0.5;
            }
            last = 1;
        } else {
            (b, fb) = (x, fx);
            if fx == 0.0 {
                return (x, Binding::Interior);
            }
            if last == -1 {
                fa *= 0.5;
            }
            last = -1;
        }
    }
    (0.5 * (a + b), Binding::Interior)
}

/// The working state of one owner's best response: own-product logit weights per segment on a
/// fixed scale, so a 1-D solve costs O(segments) per evaluation.
struct OwnerState<'a> {
    m: &'a Market,
    opts: &'a Solver,
    own: Vec<usize>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// Per segment, the reference utility subtracted before `exp`: no own weight can exceed 1.
    shift: Vec<f64>,
    /// Per segment, the weights of the outside option and the other owners' products.
    rest: Vec<f64>,
    /// `[g][i]`: weight of own product `own[i]`.
    w: Vec<Vec<f64>>,
    fees: Vec<f64>,
    binding: Vec<Binding>,
    shadow: Vec<f64>,
    /// Reused buffers of [`OwnerState::solve_product`] (per segment `ln Z_g`, `Ē_g` and `a_j + b_gj`;
    /// per own product its margin): a best response solves products many times a month.
    scratch: [Vec<f64>; 4],
}

impl<'a> OwnerState<'a> {
    fn new(m: &'a Market, fees: &[f64], owner: usize, opts: &'a Solver) -> Self {
        let (own, lo, hi, fees) = Self::bounds(m, fees, owner, opts);
        let mut shift = Vec::with_capacity(m.segments.len());
        let mut rest = Vec::with_capacity(m.segments.len());
        for (g, seg) in m.segments.iter().enumerate() {
            // Own products at their lowest fee bound the own weights; the others' are fixed.
            let others: Vec<f64> = (0..m.products.len())
                .filter(|j| !own.contains(j))
                .map(|j| m.utility(g, j, fees[j]))
                .collect();
            let top = own
                .iter()
                .zip(&lo)
                .map(|(&j, &l)| m.utility(g, j, l))
                .chain(others.iter().copied())
                .fold(seg.outside_utility, f64::max);
            shift.push(top);
            rest.push((seg.outside_utility - top).exp() + others.iter().map(|u| (u - top).exp()).sum::<f64>());
        }
        Self::assemble(m, opts, own, lo, hi, shift, rest, fees)
    }

    /// The owner's products, their fee bounds, and the fees with the owner's clamped to them.
    #[allow(clippy::type_complexity)]
    fn bounds(m: &Market, fees: &[f64], owner: usize, opts: &Solver) -> (Vec<usize>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let own: Vec<usize> = (0..m.products.len())
            .filter(|&j| m.products[j].owner == owner)
            .collect();
        let lo: Vec<f64> = own.iter().map(|&j| m.products[j].cost.max(opts.floor)).collect();
        let hi: Vec<f64> = lo.iter().map(|&l| opts.f_max.max(l)).collect();
        let mut fees = fees.to_vec();
        for (i, &j) in own.iter().enumerate() {
            fees[j] = fees[j].clamp(lo[i], hi[i]);
        }
        (own, lo, hi, fees)
    }

    /// As [`OwnerState::new`], with every segment's shift and the weights of the outside option
    /// and of all products at `fees` shared by the owners that respond to the same fees. The
    /// owner's rest is summed from the others' weights (not the total less its own, which
    /// cancels when one owner holds nearly all of a segment).
    fn from_table(m: &'a Market, fees: &[f64], owner: usize, opts: &'a Solver, table: &WeightTable) -> Self {
        let (own, lo, hi, fees) = Self::bounds(m, fees, owner, opts);
        let rest = (0..m.segments.len())
            .map(|g| {
                table.outside[g]
                    + (0..m.products.len())
                        .filter(|j| !own.contains(j))
                        .map(|j| table.weight[g][j])
                        .sum::<f64>()
            })
            .collect();
        Self::assemble(m, opts, own, lo, hi, table.shift.clone(), rest, fees)
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        m: &'a Market,
        opts: &'a Solver,
        own: Vec<usize>,
        lo: Vec<f64>,
        hi: Vec<f64>,
        shift: Vec<f64>,
        rest: Vec<f64>,
        fees: Vec<f64>,
    ) -> Self {
        let mut st = OwnerState {
            m,
            opts,
            w: vec![vec![0.0; own.len()]; m.segments.len()],
            binding: vec![Binding::Interior; m.products.len()],
            shadow: vec![0.0; m.products.len()],
            own,
            lo,
            hi,
            shift,
            rest,
            fees,
            scratch: Default::default(),
        };
        st.rebuild_weights();
        st
    }

    fn rebuild_weights(&mut self) {
        for i in 0..self.own.len() {
            self.set_weight(i);
        }
    }

    fn set_weight(&mut self, i: usize) {
        let j = self.own[i];
        for g in 0..self.m.segments.len() {
            self.w[g][i] = (self.m.utility(g, j, self.fees[j]) - self.shift[g]).exp();
        }
    }

    fn margin(&self, j: usize) -> f64 {
        (1.0 + self.m.products[j].future_months) * (self.fees[j] - self.m.products[j].cost)
    }

    /// Re-solves own product `own[i]` with the others held; returns `|Δf|`. `local`: continue from
    /// the current fee (later sweeps) instead of searching up from the lower bound.
    fn solve_product(&mut self, i: usize, local: bool) -> f64 {
        let m = self.m;
        let j = self.own[i];
        let p = &m.products[j];
        // Per segment: ln of the total weight of every alternative to j (outside included) and
        // the owner's margin recaptured on a buyer diverted from j, `Ē_g = Σ_{k∈o,k≠j} e_k w_k / Z`.
        let n_seg = m.segments.len();
        let [mut ln_z, mut ebar, mut pre, mut margins] = std::mem::take(&mut self.scratch);
        ln_z.clear();
        ebar.clear();
        pre.clear();
        margins.clear();
        margins.extend(self.own.iter().map(|&k| self.margin(k)));
        for g in 0..n_seg {
            let mut z = self.rest[g];
            let mut a = 0.0;
            for (k, (&wk, &ek)) in self.w[g].iter().zip(&margins).enumerate() {
                if k != i {
                    z += wk;
                    a += ek * wk;
                }
            }
            ln_z.push(self.shift[g] + z.ln());
            ebar.push(if z > 0.0 { a / z } else { 0.0 });
        }
        pre.extend((0..n_seg).map(|g| m.pre_price(g, j)));
        let seg_share = |g: usize, t: f64| sigmoid(pre[g] - t - ln_z[g]);
        // With the other own prices held, diverted buyers keep the mix Ē_g, so
        // E_g − e_j = (1 − s_gj)(Ē_g − e_j) and F_j = B_j + Σ_g M_g s_gj [1 − π'(P)(1 − s_gj)(e_j − Ē_g)].
        let phi = |f: f64| {
            let price = p.fixed + f;
            let (t, d) = (m.form.term(price), m.form.slope(price));
            let e = (1.0 + p.future_months) * (f - p.cost);
            let mut sum = p.harvest(f);
            for (g, seg) in m.segments.iter().enumerate() {
                let s = seg_share(g, t);
                sum += seg.mass * s * (1.0 - d * (1.0 - s) * (e - ebar[g]));
            }
            sum
        };
        let (lo, hi) = (self.lo[i], self.hi[i]);
        let old = self.fees[j];
        let start = if local { old } else { lo };
        // A warm start is near the root: a first step of 1e-3 brackets it in a few doublings.
        let step = if local && self.opts.warm_start { 1e-3 } else { 1e-6 };
        let (mut f, mut binding) = find_crossing(phi, start, lo, hi, step);
        let mut shadow = 0.0;
        if let Some(k) = p.capacity {
            let demand = |f: f64| {
                let t = m.form.term(p.fixed + f);
                p.installed_at(p.fixed + f) + (0..n_seg).map(|g| m.segments[g].mass * seg_share(g, t)).sum::<f64>() - k
            };
            if demand(f) > 0.0 {
                let (clear, _) = find_crossing(demand, f, f, hi, 1e-6);
                shadow = clear - f;
                f = clear;
                binding = Binding::Capacity;
            }
        }
        self.scratch = [ln_z, ebar, pre, margins];
        self.fees[j] = f;
        self.binding[j] = binding;
        self.shadow[j] = shadow;
        self.set_weight(i);
        (f - old).abs()
    }

    fn sweep(&mut self, local: bool) -> f64 {
        (0..self.own.len()).fold(0.0, |acc, i| acc.max(self.solve_product(i, local)))
    }

    /// Newton steps on the FOC system of the owner's interior products (the others held), with
    /// backtracking on `Σ (F_j/D_j)²` and the steps kept inside the fee bounds. Only an
    /// accelerator: the Gauss–Seidel sweep after it decides convergence.
    fn newton(&mut self) {
        let m = self.m;
        let free: Vec<usize> = self
            .own
            .iter()
            .copied()
            .filter(|&j| self.binding[j] == Binding::Interior)
            .collect();
        if free.len() < 2 {
            return;
        }
        let bounds: Vec<(f64, f64)> = free
            .iter()
            .map(|j| {
                let i = self.own.iter().position(|k| k == j).unwrap_or(0);
                (self.lo[i], self.hi[i])
            })
            .collect();
        let merit = |fees: &[f64]| {
            let (f, _) = owner_system(m, fees, &self.own, &free, false);
            let d = demands(m, fees);
            free.iter()
                .zip(&f)
                .map(|(&j, r)| (r / d[j].max(1e-300)).powi(2))
                .sum::<f64>()
        };
        let mut current = merit(&self.fees);
        for _ in 0..30 {
            if !current.is_finite() || current < 1e-28 {
                break;
            }
            let (f, jac) = owner_system(m, &self.fees, &self.own, &free, true);
            let Some(step) = solve_linear(jac, f.iter().map(|v| -v).collect()) else {
                break;
            };
            let mut t = 1.0;
            let mut accepted = false;
            for _ in 0..30 {
                let mut trial = self.fees.clone();
                let inside = free.iter().zip(&step).zip(&bounds).all(|((&j, &dj), &(lo, hi))| {
                    trial[j] += t * dj;
                    trial[j] >= lo && trial[j] <= hi
                });
                if inside {
                    let value = merit(&trial);
                    if value < current {
                        self.fees = trial;
                        current = value;
                        accepted = true;
                        break;
                    }
                }
                t *= 0.5;
            }
            let moved = t * step.iter().fold(0.0f64, |a, b| a.max(b.abs()));
            if !accepted || moved < 0.01 * self.opts.tol {
                break;
            }
        }
        self.rebuild_weights();
    }
}

/// Best response of `owner` to the other owners' fees `fees` (its own entries are the starting
/// point of later sweeps only; the first sweep searches each product up from its lower bound).
pub fn best_response(m: &Market, fees: &[f64], owner: usize, opts: &Solver) -> BestResponse {
    solve_owner(OwnerState::new(m, fees, owner, opts))
}

/// Every segment's shift (the largest utility of the outside option and of every product at
/// the lowest fee a best response may try or at its current fee), and the weights `exp(U − shift)`
/// of the outside option and of the products at `fees`.
struct WeightTable {
    shift: Vec<f64>,
    outside: Vec<f64>,
    weight: Vec<Vec<f64>>,
}

/// The best responses of several owners to the same fees `fees`, each `(owner, solver)` as
/// [`best_response`] would give it, in order, sharing one table of the products' logit weights:
/// one `exp` per product and segment instead of one per product, segment and owner. For markets
/// with many owners (the fee game). The solvers may differ in everything but `floor`, which is
/// the first one's.
pub fn best_responses(m: &Market, fees: &[f64], requests: &[(usize, Solver)]) -> Vec<BestResponse> {
    let Some((_, first)) = requests.first() else {
        return Vec::new();
    };
    let n = m.products.len();
    let lowest: Vec<f64> = (0..n).map(|j| m.products[j].cost.max(first.floor)).collect();
    let mut table = WeightTable {
        shift: Vec::with_capacity(m.segments.len()),
        outside: Vec::with_capacity(m.segments.len()),
        weight: Vec::with_capacity(m.segments.len()),
    };
    for (g, seg) in m.segments.iter().enumerate() {
        let now: Vec<f64> = (0..n).map(|j| m.utility(g, j, fees[j].max(lowest[j]))).collect();
        let top = (0..n)
            .map(|j| m.utility(g, j, lowest[j]))
            .chain(now.iter().copied())
            .fold(seg.outside_utility, f64::max);
        table.outside.push((seg.outside_utility - top).exp());
        table.weight.push(now.iter().map(|u| (u - top).exp()).collect());
        table.shift.push(top);
    }
    requests
        .iter()
        .map(|(owner, opts)| {
            debug_assert_eq!(opts.floor, first.floor, "one floor for the shared table");
            solve_owner(OwnerState::from_table(m, fees, *owner, opts, &table))
        })
        .collect()
}

/// Gauss–Seidel sweeps (with Newton steps if asked) on one owner's products to convergence.
fn solve_owner(mut st: OwnerState) -> BestResponse {
    let opts = st.opts;
    let tol = 0.1 * opts.tol;
    st.sweep(opts.warm_start);
    let mut sweeps = 1;
    let mut converged = st.own.len() <= 1;
    while !converged && sweeps < opts.max_sweeps {
        if opts.newton {
            st.newton();
        }
        let delta = st.sweep(true);
        sweeps += 1;
        converged = delta < tol;
    }
    if st.own.len() == 1 {
        // One product: the 1-D solve is exact; a second sweep confirms the bracket.
        converged = st.sweep(true) < tol;
        sweeps += 1;
    }
    BestResponse {
        fees: st.fees,
        binding: st.binding,
        shadow: st.shadow,
        converged,
        sweeps,
    }
}

/// A (damped Jacobi) Bertrand–Nash equilibrium.
#[derive(Debug, Clone, PartialEq)]
pub struct Equilibrium {
    /// Fees `f_j` (on convergence, the best responses of the last iteration).
    pub fees: Vec<f64>,
    /// Total prices `P_j = fixed_j + f_j`.
    pub prices: Vec<f64>,
    /// `[g][j]`: choice probabilities per segment.
    pub shares: Vec<Vec<f64>>,
    /// Per segment, the outside option's probability.
    pub outside: Vec<f64>,
    /// `D_j = B_j + W_j`.
    pub demands: Vec<f64>,
    /// `min(D_j, K_j)`.
    pub served: Vec<f64>,
    /// Per product, the capacity shadow component of the fee.
    pub shadow: Vec<f64>,
    /// Per product, what decided its fee.
    pub binding: Vec<Binding>,
    /// Lerner indices `(P_j − fixed_j − c_j)/P_j`.
    pub lerner: Vec<f64>,
    /// Jacobi iterations used.
    pub iterations: usize,
    /// `max |BR − f|` at the last iteration.
    pub gap: f64,
    /// Whether the gap fell below the tolerance and every best response converged.
    pub converged: bool,
}

/// Iterates simultaneous best responses of every owner from `start`, each month moving fees by
/// [`damped_step`] with `damping ∈ (0, 1]`, until `max |BR − f| < opts.tol` or `max_iter`.
pub fn equilibrium(m: &Market, start: &[f64], damping: f64, max_iter: usize, opts: &Solver) -> Equilibrium {
    let owners = m.owners();
    let n = m.products.len();
    let mut fees = start.to_vec();
    let mut binding = vec![Binding::Interior; n];
    let mut shadow = vec![0.0; n];
    let (mut gap, mut iterations, mut converged) = (f64::INFINITY, 0, false);
    while iterations < max_iter {
        iterations += 1;
        let mut br = fees.clone();
        let mut all_converged = true;
        for &o in &owners {
            let r = best_response(m, &fees, o, opts);
            all_converged &= r.converged;
            for j in (0..n).filter(|&j| m.products[j].owner == o) {
                br[j] = r.fees[j];
                binding[j] = r.binding[j];
                shadow[j] = r.shadow[j];
            }
        }
        gap = br.iter().zip(&fees).fold(0.0f64, |a, (b, f)| a.max((b - f).abs()));
        if gap < opts.tol && all_converged {
            fees = br;
            converged = true;
            break;
        }
        for (f, b) in fees.iter_mut().zip(&br) {
            *f = damped_step(*f, *b, damping);
        }
    }
    let prices: Vec<f64> = (0..n).map(|j| m.price(&fees, j)).collect();
    let (shares, outside): (Vec<Vec<f64>>, Vec<f64>) = (0..m.segments.len()).map(|g| shares(m, &fees, g)).unzip();
    let demands = demands(m, &fees);
    let served = served(m, &demands);
    let lerner = (0..n)
        .map(|j| (prices[j] - m.products[j].fixed - m.products[j].cost) / prices[j])
        .collect();
    Equilibrium {
        fees,
        prices,
        shares,
        outside,
        demands,
        served,
        shadow,
        binding,
        lerner,
        iterations,
        gap,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(a: f64, cost: f64, owner: usize) -> Product {
        Product {
            cost,
            owner,
            ..Product::new(a, 0.0)
        }
    }

    fn one_segment(form: PriceForm, products: Vec<Product>) -> Market {
        Market {
            form,
            products,
            segments: vec![Segment {
                mass: 1.0,
                outside_utility: 0.0,
                bonus: vec![],
            }],
        }
    }

    /// Logit shares written out independently of the module: `exp U_j / (exp U_0 + Σ exp U_k)`.
    fn logit(u: &[f64], u0: f64) -> Vec<f64> {
        let z: f64 = u.iter().map(|x| x.exp()).sum::<f64>() + u0.exp();
        u.iter().map(|x| x.exp() / z).collect()
    }

    /// Damped fixed-point iteration `x ← (1−θ)x + θ·map(x)` to machine precision.
    fn fixed_point(mut x: Vec<f64>, map: impl Fn(&[f64]) -> Vec<f64>) -> Vec<f64> {
        for _ in 0..200_000 {
            let y = map(&x);
            let change = x.iter().zip(&y).fold(0.0f64, |a, (p, q)| a.max((p - q).abs()));
            for (p, q) in x.iter_mut().zip(&y) {
                *p = 0.7 * *p + 0.3 * q;
            }
            if change < 1e-14 {
                return x;
            }
        }
        panic!("reference fixed point did not converge");
    }

    fn solve(m: &Market) -> Equilibrium {
        let start = vec![1.0; m.products.len()];
        let eq = equilibrium(m, &start, 1.0, 500, &Solver::default());
        assert!(eq.converged, "equilibrium did not converge: gap {}", eq.gap);
        eq
    }

    fn max_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
    }

    #[test]
    fn future_months_is_the_discounted_survival_series() {
        for (delta, h) in [(0.99f64, 0.02f64), (0.9, 0.5), (0.0, 0.1), (0.95, 1.0)] {
            let series: f64 = (1..20_000).map(|t| (delta * (1.0 - h)).powi(t)).sum();
            assert!((future_months(delta, h) - series).abs() < 1e-9);
        }
        assert!(future_months(0.99, 0.01) > future_months(0.99, 0.1));
    }

    #[test]
    fn damped_step_moves_part_way() {
        assert_eq!(damped_step(2.0, 4.0, 0.25), 2.5);
        assert_eq!(damped_step(2.0, 4.0, 1.0), 4.0);
    }

    #[test]
    fn shares_are_stable_at_extreme_utilities_and_sum_to_one() {
        let mut m = one_segment(
            PriceForm::Linear { alpha: 1.0 },
            vec![product(1000.0, 0.0, 0), product(999.0, 0.0, 1)],
        );
        m.segments[0].outside_utility = 998.0;
        let (s, s0) = shares(&m, &[1.0, 1.0], 0);
        let expected = logit(&[1.0, 0.0], 0.0);
        assert!((s[0] - expected[0]).abs() < 1e-12 && (s[1] - expected[1]).abs() < 1e-12);
        assert!((s.iter().sum::<f64>() + s0 - 1.0).abs() < 1e-12);
        assert!(log_sum(&m, &[1.0, 1.0], 0).is_finite());
    }

    #[test]
    fn demand_adds_the_installed_base_and_served_is_capped() {
        let mut m = one_segment(PriceForm::Linear { alpha: 1.0 }, vec![product(1.0, 0.0, 0)]);
        m.segments[0].mass = 2.0;
        m.products[0].installed = 0.5;
        m.products[0].capacity = Some(1.0);
        let s = logit(&[0.0], 0.0)[0];
        let d = demands(&m, &[1.0]);
        assert!((d[0] - (0.5 + 2.0 * s)).abs() < 1e-12);
        assert_eq!(served(&m, &d), vec![1.0]);
    }

    /// The analytic Jacobian of the owner's FOC system matches central finite differences, in a
    /// market with both forms, several segments, bonuses, fixed parts, bases and future months.
    #[test]
    fn analytic_jacobian_matches_finite_differences() {
        for form in [PriceForm::Log { beta: 2.5 }, PriceForm::Linear { alpha: 1.3 }] {
            let mut products = vec![
                product(2.0, 0.3, 0),
                product(1.5, 0.2, 0),
                product(1.0, 0.1, 1),
                product(1.8, 0.4, 0),
            ];
            products[0].fixed = 0.7;
            products[1].installed = 0.4;
            products[1].installed_elasticity = 0.7;
            products[1].reference_price = 1.3;
            products[1].installed_offset = 0.5;
            products[3].future_months = 3.0;
            let m = Market {
                form,
                products,
                segments: vec![
                    Segment {
                        mass: 1.0,
                        outside_utility: 0.0,
                        bonus: vec![],
                    },
                    Segment {
                        mass: 0.6,
                        outside_utility: -0.5,
                        bonus: vec![0.0, 1.2, 0.0, 0.3],
                    },
                ],
            };
            let fees = [1.1, 0.9, 0.8, 1.4];
            let own = [0, 1, 3];
            let (_, jac) = owner_system(&m, &fees, &own, &own, true);
            let h = 1e-6;
            for (b, &i) in own.iter().enumerate() {
                let mut up = fees;
                let mut down = fees;
                up[i] += h;
                down[i] -= h;
                let (fu, _) = owner_system(&m, &up, &own, &own, false);
                let (fd, _) = owner_system(&m, &down, &own, &own, false);
                for a in 0..own.len() {
                    let numeric = (fu[a] - fd[a]) / (2.0 * h);
                    assert!(
                        (numeric - jac[a * own.len() + b]).abs() < 1e-6,
                        "{form:?} ∂F_{}/∂f_{i}: {numeric} vs {}",
                        own[a],
                        jac[a * own.len() + b]
                    );
                }
            }
        }
    }

    /// Theory 1: linear form, single-product sellers: `p − c = 1/(α(1 − s))`.
    #[test]
    fn linear_single_product_markup_is_one_over_alpha_one_minus_share() {
        let alpha = 1.2;
        let a = [2.0, 1.5, 1.0];
        let c = [1.0, 0.8, 0.5];
        let mut m = one_segment(
            PriceForm::Linear { alpha },
            (0..3).map(|j| product(a[j], c[j], j)).collect(),
        );
        // A fixed part shifts the total price, not the markup on the fee.
        m.products[2].fixed = 0.3;
        let fixed = [0.0, 0.0, 0.3];
        let expected = fixed_point(c.to_vec(), |p| {
            let u: Vec<f64> = (0..3).map(|j| a[j] - alpha * (fixed[j] + p[j])).collect();
            let s = logit(&u, 0.0);
            (0..3).map(|j| c[j] + 1.0 / (alpha * (1.0 - s[j]))).collect()
        });
        let eq = solve(&m);
        assert!(max_diff(&eq.fees, &expected) < 1e-6, "{:?} vs {expected:?}", eq.fees);
        for (j, cj) in c.iter().enumerate() {
            assert!((eq.fees[j] - cj - 1.0 / (alpha * (1.0 - eq.shares[0][j]))).abs() < 1e-8);
        }
        // Broken: ignoring the (1 − s) term.
        let broken = fixed_point(c.to_vec(), |_| (0..3).map(|j| c[j] + 1.0 / alpha).collect());
        assert!(max_diff(&eq.fees, &broken) > 1e-2);
    }

    /// Theory 2: log form: `(P − c_total)/P = 1/(β(1 − s))`; with `fixed = 0`,
    /// `f − c = f/(β(1 − s))` ⇒ `f = c·β(1−s)/(β(1−s) − 1)`.
    #[test]
    fn log_single_product_lerner_is_one_over_beta_one_minus_share() {
        let beta = 3.0;
        let a = [3.0, 2.5, 2.0];
        let c = [1.0, 0.8, 0.6];
        for fixed in [[0.0; 3], [0.5, 0.0, 1.5]] {
            let mut m = one_segment(
                PriceForm::Log { beta },
                (0..3).map(|j| product(a[j], c[j], j)).collect(),
            );
            for (p, &x) in m.products.iter_mut().zip(&fixed) {
                p.fixed = x;
            }
            let expected = fixed_point(c.to_vec(), |f| {
                let u: Vec<f64> = (0..3).map(|j| a[j] - beta * (fixed[j] + f[j]).ln()).collect();
                let s = logit(&u, 0.0);
                // P = (fixed + c) / (1 − 1/(β(1−s))), f = P − fixed.
                (0..3)
                    .map(|j| (fixed[j] + c[j]) / (1.0 - 1.0 / (beta * (1.0 - s[j]))) - fixed[j])
                    .collect()
            });
            let eq = solve(&m);
            assert!(max_diff(&eq.fees, &expected) < 1e-6, "{:?} vs {expected:?}", eq.fees);
            for j in 0..3 {
                assert!((eq.lerner[j] - 1.0 / (beta * (1.0 - eq.shares[0][j]))).abs() < 1e-8);
                if fixed[j] == 0.0 {
                    let bs = beta * (1.0 - eq.shares[0][j]);
                    assert!((eq.fees[j] - c[j] * bs / (bs - 1.0)).abs() < 1e-8);
                }
            }
            // Broken: the Lerner index 1/β of a zero-share seller.
            let broken: Vec<f64> = (0..3)
                .map(|j| (fixed[j] + c[j]) / (1.0 - 1.0 / beta) - fixed[j])
                .collect();
            assert!(max_diff(&eq.fees, &broken) > 1e-2);
        }
    }

    #[test]
    fn shared_weight_tables_give_each_owners_own_best_response() {
        // Log form, two segments with bonuses, fixed price parts, owners of one and two products.
        let mut products = vec![
            Product {
                fixed: 4.0,
                ..product(1.0, 0.0, 0)
            },
            Product {
                fixed: 5.0,
                ..product(1.3, 0.0, 0)
            },
            Product {
                fixed: 3.0,
                ..product(0.4, 0.2, 1)
            },
            Product {
                fixed: 2.0,
                ..product(0.1, 0.0, 2)
            },
        ];
        products[3].installed = 0.5;
        let m = Market {
            form: PriceForm::Log { beta: 2.8 },
            products,
            segments: vec![
                Segment {
                    mass: 1.0,
                    outside_utility: 0.3,
                    bonus: vec![],
                },
                Segment {
                    mass: 0.4,
                    outside_utility: -0.2,
                    bonus: vec![0.0, 0.7, 0.0, 0.2],
                },
            ],
        };
        let fees = [2.0, 2.5, 1.5, 1.0];
        let opts = |f_max: f64| Solver {
            f_max,
            warm_start: true,
            newton: false,
            ..Solver::default()
        };
        let requests = [(0, opts(40.0)), (1, opts(30.0)), (2, opts(20.0))];
        let shared = best_responses(&m, &fees, &requests);
        for ((owner, solver), br) in requests.iter().zip(&shared) {
            let alone = best_response(&m, &fees, *owner, solver);
            assert!(
                max_diff(&alone.fees, &br.fees) < 1e-9,
                "owner {owner}: {:?} vs {:?}",
                alone.fees,
                br.fees
            );
        }
        // The tables must be the current fees': responding to other fees gives other answers.
        let other = best_responses(&m, &[1.0, 1.0, 1.0, 1.0], &requests);
        assert!(max_diff(&other[1].fees, &shared[1].fees) > 1e-3);
    }

    /// Theory 3: joint ownership of two symmetric products raises both prices to
    /// `p − c = 1/(α(1 − s_1 − s_2))`.
    #[test]
    fn common_ownership_raises_both_prices_to_the_joint_markup() {
        let alpha = 1.0;
        let (a, c, a2, c2) = (1.0, 0.5, 1.2, 0.6);
        let build = |owners: [usize; 3]| {
            one_segment(
                PriceForm::Linear { alpha },
                vec![
                    product(a, c, owners[0]),
                    product(a, c, owners[1]),
                    product(a2, c2, owners[2]),
                ],
            )
        };
        let separate = solve(&build([0, 1, 2]));
        let merged = solve(&build([0, 0, 1]));
        assert!(merged.fees[0] > separate.fees[0] + 1e-3 && merged.fees[1] > separate.fees[1] + 1e-3);
        assert!(merged.fees[2] > separate.fees[2], "the rival's best response rises too");
        let expected = fixed_point(vec![c, c2], |p| {
            let s = logit(&[a - alpha * p[0], a - alpha * p[0], a2 - alpha * p[1]], 0.0);
            vec![
                c + 1.0 / (alpha * (1.0 - s[0] - s[1])),
                c2 + 1.0 / (alpha * (1.0 - s[2])),
            ]
        });
        assert!((merged.fees[0] - expected[0]).abs() < 1e-6 && (merged.fees[1] - expected[0]).abs() < 1e-6);
        assert!((merged.fees[2] - expected[1]).abs() < 1e-6);
        // Broken: ignoring ownership (each product priced alone) misses the joint markup.
        assert!((separate.fees[0] - expected[0]).abs() > 1e-2);
    }

    /// Theory 4: pass-through of own cost in linear single-product logit, from the closed-form
    /// FOC system by finite differences; in (0, 1); monopoly value `1 − s`.
    #[test]
    fn cost_pass_through_matches_the_closed_form_and_lies_in_zero_one() {
        let alpha = 1.0;
        let a = [2.0, 1.5];
        let closed = |c0: f64| {
            let c = [c0, 1.0];
            fixed_point(vec![1.0, 1.0], |p| {
                let s = logit(&[a[0] - alpha * p[0], a[1] - alpha * p[1]], 0.0);
                (0..2).map(|j| c[j] + 1.0 / (alpha * (1.0 - s[j]))).collect()
            })[0]
        };
        let model = |c0: f64| {
            solve(&one_segment(
                PriceForm::Linear { alpha },
                vec![product(a[0], c0, 0), product(a[1], 1.0, 1)],
            ))
            .fees[0]
        };
        let h = 1e-3;
        let expected = (closed(1.0 + h) - closed(1.0 - h)) / (2.0 * h);
        let got = (model(1.0 + h) - model(1.0 - h)) / (2.0 * h);
        assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
        assert!(got > 0.0 && got < 1.0);
        assert!(model(0.9) < model(1.0), "a cost cut lowers the price");
        // Broken: full pass-through.
        assert!((got - 1.0).abs() > 0.05);
        // Monopoly: d/dp [1/(α(1−s))] = −s/(1−s), so dp/dc = 1/(1 + s/(1−s)) = 1 − s.
        let mono = |c0: f64| solve(&one_segment(PriceForm::Linear { alpha }, vec![product(2.0, c0, 0)]));
        let eq = mono(1.0);
        let dpdc = (mono(1.0 + h).fees[0] - mono(1.0 - h).fees[0]) / (2.0 * h);
        assert!((dpdc - (1.0 - eq.shares[0][0])).abs() < 1e-5, "{dpdc}");
    }

    /// Theory 6a: reviewing own customers with a stay bonus b raise a myopic seller's markup; each
    /// seller's multi-segment FOC `m_j = Σ_g M_g s_gj / (α Σ_g M_g s_gj (1 − s_gj))`.
    #[test]
    fn stay_bonus_of_own_reviewers_raises_the_markup() {
        let alpha = 1.0;
        let mut last = 0.0;
        for b in [0.0, 0.5, 1.0, 2.0] {
            let mut m = one_segment(
                PriceForm::Linear { alpha },
                vec![product(1.0, 0.5, 0), product(1.0, 0.5, 1)],
            );
            m.segments.push(Segment {
                mass: 1.0,
                outside_utility: 0.0,
                bonus: vec![b, 0.0],
            });
            let eq = solve(&m);
            let seg_shares = |p: &[f64]| {
                [
                    logit(&[1.0 - alpha * p[0], 1.0 - alpha * p[1]], 0.0),
                    logit(&[1.0 + b - alpha * p[0], 1.0 - alpha * p[1]], 0.0),
                ]
            };
            let expected = fixed_point(vec![1.0, 1.0], |p| {
                let s = seg_shares(p);
                (0..2)
                    .map(|j| {
                        0.5 + (s[0][j] + s[1][j]) / (alpha * (s[0][j] * (1.0 - s[0][j]) + s[1][j] * (1.0 - s[1][j])))
                    })
                    .collect()
            });
            assert!(
                max_diff(&eq.fees, &expected) < 1e-6,
                "b {b}: {:?} vs {expected:?}",
                eq.fees
            );
            let markup = eq.fees[0] - 0.5;
            assert!(markup > last, "b {b}: {markup} ≤ {last}");
            last = markup;
            if b > 0.0 {
                // Broken: the aggregate-share markup 1/(α(1 − W/ΣM)) pools the segments.
                let s = seg_shares(&eq.fees);
                let pooled = 0.5 + 1.0 / (alpha * (1.0 - 0.5 * (s[0][0] + s[1][0])));
                assert!((pooled - eq.fees[0]).abs() > 1e-3, "b {b}");
            }
        }
    }

    /// Theory 6b: an installed base raises the price (harvest): `m = (B + W)/(α W (1 − s))`.
    #[test]
    fn installed_base_raises_the_price() {
        let alpha = 1.0;
        let build = |base: f64| {
            let mut m = one_segment(
                PriceForm::Linear { alpha },
                vec![product(1.0, 0.5, 0), product(1.0, 0.5, 1)],
            );
            m.products[0].installed = base;
            m
        };
        let base = 0.05;
        let eq = solve(&build(base));
        let none = solve(&build(0.0));
        assert!(eq.fees[0] > none.fees[0] + 1e-2);
        let expected = fixed_point(vec![1.0, 1.0], |p| {
            let s = logit(&[1.0 - alpha * p[0], 1.0 - alpha * p[1]], 0.0);
            vec![
                0.5 + (base + s[0]) / (alpha * s[0] * (1.0 - s[0])),
                0.5 + 1.0 / (alpha * (1.0 - s[1])),
            ]
        });
        assert!(max_diff(&eq.fees, &expected) < 1e-6, "{:?} vs {expected:?}", eq.fees);
        // Broken: ignoring the base in the FOC gives the B = 0 price.
        assert!((none.fees[0] - expected[0]).abs() > 1e-2);
        assert_eq!(eq.binding[0], Binding::Interior);
        // A base as large as the flow: `(f − c)·B` outgrows any loss of flow, the marginal profit
        // never turns negative, and the fee is clipped at `f_max` (and reported).
        let opts = Solver {
            f_max: 40.0,
            ..Solver::default()
        };
        let br = best_response(&build(0.3), &[1.0, 1.0], 0, &opts);
        assert_eq!((br.fees[0], br.binding[0]), (40.0, Binding::Ceiling));
    }

    /// A budget-constrained installed base (quantity elasticity ε) harvests less: the FOC
    /// `B(P)(1 − ε(f − c)/P) + s − α s(1 − s)(f − c) = 0`, `B(P) = B (P/P̄)^(−ε)`, solved here by
    /// bisection against a rival held at its fee. A base that drives an inelastic seller to the
    /// ceiling has an interior best response once it is elastic.
    #[test]
    fn an_elastic_installed_base_bounds_the_harvest() {
        let alpha = 1.0;
        let (base, eps, reference) = (0.3, 1.0, 2.0);
        let build = |eps: f64| {
            let mut m = one_segment(
                PriceForm::Linear { alpha },
                vec![product(1.0, 0.5, 0), product(1.0, 0.5, 1)],
            );
            m.products[0].installed = base;
            m.products[0].installed_elasticity = eps;
            m.products[0].reference_price = reference;
            m
        };
        let opts = Solver {
            f_max: 40.0,
            ..Solver::default()
        };
        let rival = 1.5;
        let br = best_response(&build(eps), &[1.0, rival], 0, &opts);
        let foc = |f: f64| {
            let s = logit(&[1.0 - alpha * f, 1.0 - alpha * rival], 0.0)[0];
            let b = base * (f / reference).powf(-eps);
            b * (1.0 - eps * (f - 0.5) / f) + s - alpha * s * (1.0 - s) * (f - 0.5)
        };
        // The best response is the first local maximum above cost (with ε ≤ 1 the base's profit
        // still creeps up for ever): scan up for the first sign change, then bisect.
        let mut hi = 0.5;
        while foc(hi) > 0.0 {
            hi += 0.01;
        }
        let mut lo = hi - 0.01;
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if foc(mid) > 0.0 { lo = mid } else { hi = mid }
        }
        assert_eq!(br.binding[0], Binding::Interior);
        assert!((br.fees[0] - lo).abs() < 1e-6, "{} vs {lo}", br.fees[0]);
        // Broken: treating the base as inelastic sends the fee to the ceiling.
        let inelastic = best_response(&build(0.0), &[1.0, rival], 0, &opts);
        assert_eq!(inelastic.binding[0], Binding::Ceiling);
        assert!((inelastic.fees[0] - lo).abs() > 1.0);
    }

    /// Theory 6c: future months L > 0 lower the price, more so for a smaller hazard:
    /// `(1 + L)(p − c) = 1/(α(1 − s))`.
    #[test]
    fn future_customer_value_lowers_the_price_more_for_longer_stays() {
        let alpha = 1.0;
        let mut last = f64::INFINITY;
        for hazard in [1.0, 0.5, 0.2, 0.05] {
            let l = future_months(0.99, hazard);
            let mut m = one_segment(
                PriceForm::Linear { alpha },
                vec![product(1.0, 0.5, 0), product(1.0, 0.5, 1)],
            );
            m.products[0].future_months = l;
            let eq = solve(&m);
            let expected = fixed_point(vec![1.0, 1.0], |p| {
                let s = logit(&[1.0 - alpha * p[0], 1.0 - alpha * p[1]], 0.0);
                vec![
                    0.5 + 1.0 / ((1.0 + l) * alpha * (1.0 - s[0])),
                    0.5 + 1.0 / (alpha * (1.0 - s[1])),
                ]
            });
            assert!(
                max_diff(&eq.fees, &expected) < 1e-6,
                "h {hazard}: {:?} vs {expected:?}",
                eq.fees
            );
            assert!(eq.fees[0] < last, "h {hazard}");
            last = eq.fees[0];
            if l > 0.0 {
                // Broken: ignoring L gives the myopic price.
                let myopic = 0.5 + 1.0 / (alpha * (1.0 - eq.shares[0][0]));
                assert!((myopic - eq.fees[0]).abs() > 1e-2);
            }
        }
        assert_eq!(future_months(0.99, 1.0), 0.0);
    }

    /// Theory 7: a capacity below unconstrained demand raises the price to the clearing level,
    /// served = capacity, and demand never exceeds capacity after clearing.
    #[test]
    fn capacity_raises_the_price_to_the_clearing_level() {
        let alpha = 1.0;
        let build = |k: Option<f64>| {
            let mut m = one_segment(
                PriceForm::Linear { alpha },
                vec![product(2.0, 0.5, 0), product(1.0, 0.5, 1)],
            );
            m.segments[0].mass = 10.0;
            m.products[0].capacity = k;
            m
        };
        let free = solve(&build(None));
        for frac in [0.95, 0.7, 0.4, 0.1] {
            let k = frac * free.demands[0];
            let eq = solve(&build(Some(k)));
            assert_eq!(eq.binding[0], Binding::Capacity);
            assert!(eq.fees[0] > free.fees[0] && eq.shadow[0] > 0.0);
            assert!((eq.demands[0] - k).abs() < 1e-6 * k && eq.demands[0] <= k * (1.0 + 1e-9));
            assert!((eq.served[0] - k).abs() < 1e-6 * k);
            // Clearing: s_0 = K/M ⇒ exp(2 − αp_0) = κ(1 + exp(1 − αp_1))/(1 − κ), κ = K/M; the rival
            // best-responds with p_1 = c + 1/(α(1 − s_1)).
            let kappa = k / 10.0;
            let expected = fixed_point(vec![1.0, 1.0], |p| {
                let p0 = (2.0 - (kappa * (1.0 + (1.0 - alpha * p[1]).exp()) / (1.0 - kappa)).ln()) / alpha;
                let s = logit(&[2.0 - alpha * p0, 1.0 - alpha * p[1]], 0.0);
                vec![p0, 0.5 + 1.0 / (alpha * (1.0 - s[1]))]
            });
            assert!(
                max_diff(&eq.fees, &expected) < 1e-6,
                "K {k}: {:?} vs {expected:?}",
                eq.fees
            );
            // Broken: the unconstrained best response overfills capacity.
            let br = best_response(&build(None), &eq.fees, 0, &Solver::default());
            assert!(demands(&build(None), &br.fees)[0] > k * (1.0 + 1e-3));
        }
        // A capacity above demand does not bind.
        let loose = solve(&build(Some(2.0 * free.demands[0])));
        assert_eq!(loose.binding[0], Binding::Interior);
        assert!((loose.fees[0] - free.fees[0]).abs() < 1e-9);
    }

    /// Theory 8: log form with β > 1 and a large share: the solver passes the region where profit
    /// still rises (`β(1 − s) ≤ 1`) and returns the interior maximum; with `c = 0` the optimum has
    /// `s = 1 − 1/β`. With β < 1 profit never turns down and the fee is clipped at `f_max`.
    #[test]
    fn log_form_finds_the_interior_maximum_past_the_rising_region() {
        let beta = 1.5;
        for cost in [0.2, 0.0] {
            let mut m = one_segment(PriceForm::Log { beta }, vec![product(4.0, cost, 0)]);
            m.segments[0].mass = 5.0;
            let opts = Solver::default();
            let br = best_response(&m, &[1.0], 0, &opts);
            assert!(br.converged && br.binding[0] == Binding::Interior);
            let f = br.fees[0];
            let profit = |x: f64| owner_profit(&m, &[x], 0);
            assert!(profit(f) >= profit(0.9 * f) && profit(f) >= profit(1.1 * f));
            let s = shares(&m, &[f], 0).0[0];
            if cost == 0.0 {
                assert!((s - (1.0 - 1.0 / beta)).abs() < 1e-9, "s {s}");
            } else {
                assert!((f - cost * beta * (1.0 - s) / (beta * (1.0 - s) - 1.0)).abs() < 1e-8);
                // Below the optimum there is a price where β(1 − s) < 1 and profit still rises.
                let low = 0.3 * f;
                let s_low = shares(&m, &[low], 0).0[0];
                assert!(beta * (1.0 - s_low) < 1.0 && profit(1.01 * low) > profit(low));
                // Broken: the zero-share Lerner rule f = cβ/(β − 1) earns visibly less.
                let naive = cost * beta / (beta - 1.0);
                assert!(profit(naive) < profit(f) * 0.99);
            }
        }
        let m = one_segment(PriceForm::Log { beta: 0.8 }, vec![product(4.0, 0.2, 0)]);
        let opts = Solver {
            f_max: 50.0,
            ..Solver::default()
        };
        let br = best_response(&m, &[1.0], 0, &opts);
        assert_eq!(br.binding[0], Binding::Ceiling);
        assert_eq!(br.fees[0], 50.0);
    }

    /// A large market (64 products, 70 segments, multi-product owners, bonuses, bases, L, a
    /// capacity): converges; interior products satisfy their FOC; within the solver's bounds.
    #[test]
    fn large_multi_product_market_converges_and_satisfies_the_focs() {
        let n = 64;
        let products: Vec<Product> = (0..n)
            .map(|j| Product {
                base_utility: 1.0 + 0.03 * (j % 7) as f64,
                fixed: 0.5 + 0.1 * (j % 5) as f64,
                cost: 0.2 + 0.05 * (j % 3) as f64,
                owner: j % 6,
                installed: if j % 9 == 0 { 0.01 } else { 0.0 },
                installed_elasticity: 0.0,
                reference_price: 1.0,
                installed_offset: 0.0,
                capacity: if j == 5 { Some(0.2) } else { None },
                future_months: if j % 4 == 0 { 5.0 } else { 0.0 },
            })
            .collect();
        let segments: Vec<Segment> = (0..70)
            .map(|g| Segment {
                mass: 0.5 + 0.01 * g as f64,
                outside_utility: 0.5,
                bonus: (0..n).map(|j| if j == g % n { 1.0 } else { 0.0 }).collect(),
            })
            .collect();
        let m = Market {
            form: PriceForm::Log { beta: 3.0 },
            products,
            segments,
        };
        let start = vec![1.0; n];
        let clock = std::time::Instant::now();
        let eq = equilibrium(&m, &start, 1.0, 200, &Solver::default());
        let elapsed = clock.elapsed();
        assert!(eq.converged, "gap {} after {}", eq.gap, eq.iterations);
        eprintln!("64 × 70 equilibrium: {} iterations, {elapsed:?}", eq.iterations);
        assert_eq!(eq.binding[5], Binding::Capacity);
        assert!(eq.demands[5] <= 0.2 * (1.0 + 1e-9));
        for o in m.owners() {
            for (j, r) in foc(&m, &eq.fees, o) {
                if eq.binding[j] == Binding::Interior {
                    assert!(r.abs() < 1e-6 * eq.demands[j].max(1e-3), "product {j}: F = {r}");
                }
            }
        }
        for (j, p) in m.products.iter().enumerate() {
            assert!(eq.fees[j] >= p.cost && eq.lerner[j] > 0.0 && eq.lerner[j] < 1.0);
        }
    }
}
