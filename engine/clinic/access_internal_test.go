package clinic

import "testing"

// A rule for a table the schema lacks would never run: the table was renamed or misspelt.
func TestRoleRulesNameRealTables(t *testing.T) {
	for role, tables := range roleRules {
		if !staffRole(role) && role != RolePatient {
			t.Errorf("rules for unknown role %q", role)
		}
		for name := range tables {
			if Schema.Table(name) == nil {
				t.Errorf("%s rules name unknown table %q", role, name)
			}
		}
	}
}
