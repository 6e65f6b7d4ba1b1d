//! Property: any list our formatter writes parses back to the same items, and parsing
//! never panics on arbitrary text.

use distsetup::hostspec::{self, Host, Item, Options, Transport};
use proptest::prelude::*;

fn options() -> impl Strategy<Value = Options> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(proptest::option::of("[a-z]{1,6}")),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lzo, cpp, auth, down, tls)| Options {
            lzo: lzo || cpp,
            cpp,
            auth,
            down,
            tls,
        })
}

fn host(i: usize) -> impl Strategy<Value = Host> {
    let name = format!("h{i}");
    let limit = proptest::option::of(1u32..200);
    prop_oneof![
        (proptest::option::of(1u16..), limit.clone(), options()).prop_map({
            let name = name.clone();
            move |(port, limit, options)| Host {
                transport: Transport::Tcp {
                    host: name.clone(),
                    port,
                },
                limit,
                options,
            }
        }),
        (
            "[a-z]{0,5}",
            proptest::option::of("/[a-z/]{1,12}"),
            limit,
            options()
        )
            .prop_map(move |(user, command, limit, options)| Host {
                transport: Transport::Ssh {
                    user,
                    host: name.clone(),
                    command
                },
                limit,
                options,
            }),
    ]
}

fn items() -> impl Strategy<Value = Vec<Item>> {
    (1usize..8).prop_flat_map(|n| {
        let hosts: Vec<_> = (0..n)
            .map(|i| host(i).prop_map(Item::Host).boxed())
            .collect();
        (hosts, any::<bool>(), proptest::option::of(1u32..50)).prop_map(|(mut v, rnd, slots)| {
            if rnd {
                v.insert(0, Item::Randomize);
            }
            if let Some(s) = slots {
                v.push(Item::LocalSlots(Some(s)));
            }
            v
        })
    })
}

proptest! {
    #[test]
    fn formatted_lists_parse_back(items in items()) {
        let text = hostspec::format(&items);
        let parsed = hostspec::parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        let back: Vec<Item> = parsed.entries.iter().map(|e| e.item.clone()).collect();
        prop_assert_eq!(back, items);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(s in "\\PC{0,60}") {
        let _ = hostspec::parse(&s);
    }
}
