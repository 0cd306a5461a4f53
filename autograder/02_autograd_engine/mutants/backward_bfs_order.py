# mutant: breadth-first order from the root instead of reverse topological order (wrong on diamonds)
# replaces: backward_impl
# breaks: backward
# replace:
    topo, visited = [], set()

    def build(node):
        if id(node) in visited:
            return
        visited.add(id(node))
# with:
    order, visited, queue = [], {id(self)}, [self]   # BUG: BFS, a node may run before all its users
    while queue:
        node = queue.pop(0)
        order.append(node)

# replace:
            build(parent)
        topo.append(node)

    build(self)
# with:
            if id(parent) not in visited:
                visited.add(id(parent))
                queue.append(parent)
    topo = order[::-1]
