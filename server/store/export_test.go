package store

// Raw gives tests the connection or transaction q runs on, for statements
// no query of this package makes.
func (q *Queries) Raw() DBTX { return q.db }
