// calc.thrift: the service sluice's thrift_proxy tests call through the proxy.
namespace go calc
namespace py calc

exception CalcError {
  1: i32 code,
  2: string why,
}

struct Item {
  1: string name,
  2: list<i64> values,
  3: map<string, double> attrs,
  4: optional binary blob,
}

service Calc {
  i32 add(1: i32 a, 2: i32 b),
  string echo(1: string s),
  Item describe(1: Item it),
  i32 fail(1: i32 code) throws (1: CalcError err),
  oneway void note(1: string s),
  // sleep answers after ms milliseconds (or never with ms < 0).
  i32 sleep(1: i32 ms),
  // whoami names the server that answered (tests tell two backends apart).
  string whoami(),
}

service Admin {
  string whoami(),
  i32 add(1: i32 a, 2: i32 b),
}
