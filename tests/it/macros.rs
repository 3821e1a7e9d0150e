/// One `#[test]` per scenario and Terraform version, as ripgrep's `rgtest!` runs each test
/// under both regex engines: `tf_1_0_3::<scenario>` and `tf_1_15_5::<scenario>` call the
/// invoking module's `fn <scenario>(version: &str)` with that version of
/// [`VERSIONS`](crate::support::terraform::VERSIONS).
macro_rules! on_both_versions {
    (@module $module:ident: $($scenario:ident),*) => {
        mod $module {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario($crate::support::terraform::version_named(stringify!($module)))
                }
            )*
        }
    };
    ($($scenario:ident),* $(,)?) => {
        on_both_versions!(@module tf_1_0_3: $($scenario),*);
        on_both_versions!(@module tf_1_15_5: $($scenario),*);
    };
}
