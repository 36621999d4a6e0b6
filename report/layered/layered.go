// Package layered places the nodes of a directed graph in rows, the way a reader follows the
// edges: a small layered (Sugiyama-style) layout. Cycles are broken by reversing the back edges
// of a depth-first search, nodes are put on layers by their longest path from a source, each
// layer is ordered by the barycenter of its neighbours to reduce crossings, and the layers are
// then folded into rows no wider than a limit, so that a long chain (a replication ring) reads
// like lines of text instead of a column as tall as the chain.
//
// It knows nothing of replication: fix8524's report lays out DCs inside a site with it, and the
// sites themselves. It is linear in nodes and edges per sweep and allocation-light, so a graph
// of thousands of nodes is placed in milliseconds.
package layered

import "sort"

// Node is a box to place.
type Node struct{ W, H float64 }

// Edge goes from node From to node To (indexes into Graph.Nodes). Self-loops are ignored.
type Edge struct{ From, To int }

// Graph is what Layout places.
type Graph struct {
	Nodes []Node
	Edges []Edge
}

// Options tune the layout. Zero values take the defaults.
type Options struct {
	MaxWidth float64 // widest row (default 1200); a node wider than it gets a row of its own
	GapX     float64 // between nodes in a row (default 24)
	GapY     float64 // between rows (default 36)
	Sweeps   int     // barycenter sweeps (default 4)
}

// Result gives each node's top-left corner, and the size of the whole drawing.
type Result struct {
	X, Y          []float64
	Width, Height float64
	Rows          int
}

// Layout places g's nodes. Edges whose ends are out of range are ignored.
func Layout(g Graph, o Options) Result {
	if o.MaxWidth <= 0 {
		o.MaxWidth = 1200
	}
	if o.GapX <= 0 {
		o.GapX = 24
	}
	if o.GapY <= 0 {
		o.GapY = 36
	}
	if o.Sweeps <= 0 {
		o.Sweeps = 4
	}
	n := len(g.Nodes)
	r := Result{X: make([]float64, n), Y: make([]float64, n)}
	if n == 0 {
		return r
	}
	out, in := adjacency(n, g.Edges)
	layer := layers(n, out, in)
	order := orderLayers(n, layer, out, in, o.Sweeps)
	fold(g.Nodes, order, o, &r)
	return r
}

// adjacency returns out- and in-neighbour lists of the acyclic graph: edges in range, no
// self-loops, duplicates removed, and back edges of a DFS (in node order) reversed.
func adjacency(n int, edges []Edge) (out, in [][]int) {
	raw := make([][]int, n)
	for _, e := range edges {
		if e.From < 0 || e.To < 0 || e.From >= n || e.To >= n || e.From == e.To {
			continue
		}
		raw[e.From] = append(raw[e.From], e.To)
	}
	for v := range raw {
		sort.Ints(raw[v])
	}
	// Iterative DFS: state 0 new, 1 on the stack, 2 done.
	state := make([]byte, n)
	type frame struct{ v, i int }
	var stack []frame
	out = make([][]int, n)
	in = make([][]int, n)
	seen := map[[2]int]bool{}
	add := func(a, b int) {
		if a == b || seen[[2]int{a, b}] {
			return
		}
		seen[[2]int{a, b}] = true
		out[a] = append(out[a], b)
		in[b] = append(in[b], a)
	}
	for s := 0; s < n; s++ {
		if state[s] != 0 {
			continue
		}
		state[s] = 1
		stack = append(stack[:0], frame{s, 0})
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.i == len(raw[f.v]) {
				state[f.v] = 2
				stack = stack[:len(stack)-1]
				continue
			}
			w := raw[f.v][f.i]
			f.i++
			switch state[w] {
			case 0:
				add(f.v, w)
				state[w] = 1
				stack = append(stack, frame{w, 0})
			case 1: // back edge: reversed
				add(w, f.v)
			default:
				add(f.v, w)
			}
		}
	}
	return out, in
}

// layers assigns each node the length of the longest path reaching it (Kahn's order).
func layers(n int, out, in [][]int) []int {
	layer := make([]int, n)
	deg := make([]int, n)
	queue := make([]int, 0, n)
	for v := 0; v < n; v++ {
		deg[v] = len(in[v])
		if deg[v] == 0 {
			queue = append(queue, v)
		}
	}
	for i := 0; i < len(queue); i++ {
		v := queue[i]
		for _, w := range out[v] {
			if layer[v]+1 > layer[w] {
				layer[w] = layer[v] + 1
			}
			if deg[w]--; deg[w] == 0 {
				queue = append(queue, w)
			}
		}
	}
	return layer
}

// orderLayers returns the layers, each ordered by barycenter sweeps (down, then up).
func orderLayers(n int, layer []int, out, in [][]int, sweeps int) [][]int {
	depth := 0
	for _, l := range layer {
		depth = max(depth, l+1)
	}
	order := make([][]int, depth)
	for v := 0; v < n; v++ {
		order[layer[v]] = append(order[layer[v]], v)
	}
	pos := make([]float64, n)
	index := func() {
		for _, row := range order {
			for i, v := range row {
				pos[v] = float64(i)
			}
		}
	}
	index()
	bary := make([]float64, n)
	sweep := func(row []int, nb [][]int) {
		for _, v := range row {
			if len(nb[v]) == 0 {
				bary[v] = pos[v]
				continue
			}
			s := 0.0
			for _, w := range nb[v] {
				s += pos[w]
			}
			bary[v] = s / float64(len(nb[v]))
		}
		sort.SliceStable(row, func(i, j int) bool { return bary[row[i]] < bary[row[j]] })
		for i, v := range row {
			pos[v] = float64(i)
		}
	}
	for s := 0; s < sweeps; s++ {
		for l := 1; l < depth; l++ {
			sweep(order[l], in)
		}
		for l := depth - 2; l >= 0; l-- {
			sweep(order[l], out)
		}
	}
	return order
}

// fold lays the ordered layers out in rows: a layer continues the current row when all of it
// fits, and otherwise starts a new one (a layer wider than a row is wrapped over several).
// Rows are centred on the widest.
func fold(nodes []Node, order [][]int, o Options, r *Result) {
	type row struct {
		nodes []int
		w, h  float64
	}
	var rows []row
	cur := row{}
	flush := func() {
		if len(cur.nodes) > 0 {
			rows = append(rows, cur)
		}
		cur = row{}
	}
	width := func(vs []int) float64 {
		w := 0.0
		for i, v := range vs {
			if i > 0 {
				w += o.GapX
			}
			w += nodes[v].W
		}
		return w
	}
	for _, layer := range order {
		if len(cur.nodes) > 0 && cur.w+o.GapX+width(layer) > o.MaxWidth {
			flush()
		}
		for _, v := range layer {
			nw := nodes[v].W
			if len(cur.nodes) > 0 && cur.w+o.GapX+nw > o.MaxWidth {
				flush()
			}
			if len(cur.nodes) > 0 {
				cur.w += o.GapX
			}
			cur.nodes = append(cur.nodes, v)
			cur.w += nw
			cur.h = max(cur.h, nodes[v].H)
		}
	}
	flush()
	for _, rw := range rows {
		r.Width = max(r.Width, rw.w)
	}
	y := 0.0
	for i, rw := range rows {
		if i > 0 {
			y += o.GapY
		}
		x := (r.Width - rw.w) / 2
		for _, v := range rw.nodes {
			r.X[v] = x
			r.Y[v] = y + (rw.h-nodes[v].H)/2
			x += nodes[v].W + o.GapX
		}
		y += rw.h
	}
	r.Height = y
	r.Rows = len(rows)
}
